"""``read_custom_headers``: the business keys (order number, customer ...) of each message.

CPI offers them per message only, so without ``message_guids`` the job sweeps the newest stored
messages whose headers were never fetched (``headers_fetched_at`` is NULL), ``limit`` per run.
Headers of a message are replaced as a set, so a re-run never duplicates them.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.cpi import CpiClient, CpiError, CpiNotFound, CustomHeaderProperty
from core.db.models.base import utcnow
from core.db.models.message_details import MessageCustomHeader
from core.db.models.messages import MessageLog
from core.errors import RetryableJobError
from core.queues.catalog import READ_CUSTOM_HEADERS
from functions.ingestion.tenant_api import reports_cpi_calls, tenant_client
from functions.registry import implements
from functions.runner.context import JobContext

__all__ = ["read_custom_headers"]

PARALLEL = 8


def _pending(sessions: sessionmaker[Session], tenant_id: int, limit: int) -> list[str]:
    query = (select(MessageLog.message_guid)
             .where(MessageLog.tenant_id == tenant_id, MessageLog.headers_fetched_at.is_(None))
             .order_by(MessageLog.log_end.desc()).limit(limit))
    with sessions() as session:
        return list(session.scalars(query))


def _save(sessions: sessionmaker[Session], tenant_id: int, found: dict[str, list[CustomHeaderProperty]]) -> int:
    if not found:
        return 0
    guids = list(found)
    rows = [{"tenant_id": tenant_id, "message_guid": guid, "name": (h.name or "")[:255], "value": h.value}
            for guid, headers in found.items() for h in headers]
    with sessions() as session, session.begin():
        session.execute(delete(MessageCustomHeader).where(
            MessageCustomHeader.tenant_id == tenant_id, MessageCustomHeader.message_guid.in_(guids)))
        if rows:
            session.execute(insert(MessageCustomHeader), rows)
        session.execute(update(MessageLog).where(MessageLog.tenant_id == tenant_id, MessageLog.message_guid.in_(guids))
                        .values(headers_fetched_at=utcnow()))
    return len(rows)


async def _fetch(cpi: CpiClient, guids: list[str]) -> tuple[dict[str, list[CustomHeaderProperty]], list[CpiError]]:
    gate = asyncio.Semaphore(PARALLEL)

    async def one(guid: str) -> list[CustomHeaderProperty]:
        async with gate:
            try:
                return await cpi.custom_headers(guid)
            except CpiNotFound:
                return []

    results = await asyncio.gather(*(one(g) for g in guids), return_exceptions=True)
    found = {g: r for g, r in zip(guids, results, strict=True) if isinstance(r, list)}
    errors = [r for r in results if isinstance(r, CpiError)]
    others = [r for r in results if isinstance(r, BaseException) and not isinstance(r, CpiError)]
    if others:
        raise others[0]
    return found, errors


@implements(READ_CUSTOM_HEADERS)
@reports_cpi_calls
async def read_custom_headers(ctx: JobContext, tenant_id: int, message_guids: list[str] | None = None,
                              limit: int = 500) -> dict[str, object]:
    """Fetch and store custom headers of the given messages, or sweep the newest without them."""
    sessions = ctx.resources.sessions
    guids = list(message_guids) if message_guids else await asyncio.to_thread(_pending, sessions, tenant_id, limit)
    async with tenant_client(ctx.resources, tenant_id) as cpi:
        found, errors = await _fetch(cpi, guids)
    stored = await asyncio.to_thread(_save, sessions, tenant_id, found)
    if errors:
        raise RetryableJobError(f"{len(errors)} of {len(guids)} messages failed ({errors[0]}); {len(found)} stored")
    return {"messages": len(found), "headers": stored}
