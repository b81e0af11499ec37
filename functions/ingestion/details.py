"""Message details (error text, attachment list, adapter attributes) on three queues:
hot (fresh failures), cold (backfilled failures) and alert (what an open alert needs now).

Without ``message_guids`` a job sweeps the tenant's failed messages that still lack details (the
database is the work list, so a lost enqueue only delays work). With ``message_guids`` it fetches
exactly those; a message we have not stored yet is fetched and stored first (alert context).
"""

from __future__ import annotations

import asyncio

from core.cpi import CpiClient, CpiError, CpiNotFound
from core.errors import RetryableJobError
from core.queues.catalog import GET_MESSAGE_DETAILS_ALERT, GET_MESSAGE_DETAILS_COLD, GET_MESSAGE_DETAILS_HOT
from functions.ingestion.details_store import FetchedDetails, pending_for_details, save_details, statuses_of
from functions.ingestion.followups import enqueue_correlations
from functions.ingestion.pages import store_logs
from functions.ingestion.rows import DETAIL_STATUSES
from functions.ingestion.tenant_api import reports_cpi_calls, tenant_client
from functions.registry import implements
from functions.runner.context import JobContext

__all__ = ["get_message_details_alert", "get_message_details_cold", "get_message_details_hot"]

ERROR_STATUSES = DETAIL_STATUSES | {"RETRY"}
PARALLEL = 8


async def _error_text(cpi: CpiClient, guid: str, status: str) -> str | None:
    """Error text of a failed message; a message without ErrorInformation simply has none."""
    if status not in ERROR_STATUSES:
        return None
    try:
        return await cpi.error_text(guid)
    except CpiNotFound:
        return None


async def _fetch_one(cpi: CpiClient, guid: str, status: str) -> FetchedDetails:
    try:
        attachments, attributes, text = await asyncio.gather(
            cpi.attachments(guid), cpi.adapter_attributes(guid), _error_text(cpi, guid, status))
    except CpiNotFound:
        return FetchedDetails(guid, gone=True)
    return FetchedDetails(guid, text, attachments, attributes)


async def _fetch_all(cpi: CpiClient, targets: dict[str, str]) -> tuple[list[FetchedDetails], list[CpiError]]:
    gate = asyncio.Semaphore(PARALLEL)

    async def guarded(guid: str, status: str) -> FetchedDetails:
        async with gate:
            return await _fetch_one(cpi, guid, status)

    results = await asyncio.gather(*(guarded(g, s) for g, s in targets.items()), return_exceptions=True)
    fetched = [r for r in results if isinstance(r, FetchedDetails)]
    errors = [r for r in results if isinstance(r, CpiError)]
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, CpiError)]
    if unexpected:
        raise unexpected[0]
    return fetched, errors


async def _store_missing(ctx: JobContext, cpi: CpiClient, tenant_id: int, guids: list[str]) -> None:
    """Alert context may name a message the readers have not stored yet: store it first."""
    logs = []
    for guid in guids:
        try:
            logs.append(await cpi.message_log(guid))
        except CpiNotFound:
            continue
    if logs:
        await asyncio.to_thread(store_logs, ctx.resources.sessions, tenant_id, logs)


async def _run(ctx: JobContext, tenant_id: int, hot: bool, message_guids: list[str] | None,
               limit: int) -> dict[str, object]:
    sessions = ctx.resources.sessions
    async with tenant_client(ctx.resources, tenant_id) as cpi:
        if message_guids:
            known = await asyncio.to_thread(statuses_of, sessions, tenant_id, message_guids)
            missing = [g for g in message_guids if g not in known]
            if missing:
                await _store_missing(ctx, cpi, tenant_id, missing)
                known = await asyncio.to_thread(statuses_of, sessions, tenant_id, message_guids)
            work = {g: known[g] for g in message_guids if g in known}
        else:
            rows = await asyncio.to_thread(pending_for_details, sessions, tenant_id, hot, limit)
            work = {g: (s, c) for g, s, c in rows}
        fetched, errors = await _fetch_all(cpi, {g: s for g, (s, _) in work.items()})
    saved = await asyncio.to_thread(save_details, sessions, tenant_id, fetched)
    correlations = [work[f.guid][1] for f in fetched if not f.gone and work[f.guid][0] in DETAIL_STATUSES]
    linked = await enqueue_correlations(ctx.resources, tenant_id, correlations)
    if errors:
        raise RetryableJobError(f"{len(errors)} of {len(work)} messages failed ({errors[0]}); {saved} stored")
    return {"messages": len(work), "stored": saved, "gone": sum(f.gone for f in fetched),
            "correlation_jobs": linked}


@implements(GET_MESSAGE_DETAILS_HOT)
@reports_cpi_calls
async def get_message_details_hot(ctx: JobContext, tenant_id: int, message_guids: list[str] | None = None,
                                  limit: int = 200) -> dict[str, object]:
    """Details of fresh failed messages (the last 24 hours), or of the given messages."""
    return await _run(ctx, tenant_id, True, message_guids, limit)


@implements(GET_MESSAGE_DETAILS_COLD)
@reports_cpi_calls
async def get_message_details_cold(ctx: JobContext, tenant_id: int, message_guids: list[str] | None = None,
                                   limit: int = 500) -> dict[str, object]:
    """Details of backfilled failed messages (older than 24 hours), or of the given messages."""
    return await _run(ctx, tenant_id, False, message_guids, limit)


@implements(GET_MESSAGE_DETAILS_ALERT)
@reports_cpi_calls
async def get_message_details_alert(ctx: JobContext, tenant_id: int, message_guids: list[str],
                                    limit: int = 200) -> dict[str, object]:
    """Details an alert needs now, on its own queue so alert context never waits behind a backlog."""
    return await _run(ctx, tenant_id, True, list(message_guids)[:limit], limit)
