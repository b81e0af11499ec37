"""``read_correlations``: store every message of a correlation (the whole chain of a failed
message, also parts outside the polled windows), so the console can show predecessor and successor
messages together. Stored through the same upsert, so a re-run changes nothing."""

from __future__ import annotations

import asyncio

from core.cpi import CpiError
from core.errors import PermanentJobError, RetryableJobError
from core.queues.catalog import READ_CORRELATIONS
from functions.ingestion.pages import store_logs
from functions.ingestion.tenant_api import reports_cpi_calls, tenant_client
from functions.registry import implements
from functions.runner.context import JobContext

__all__ = ["read_correlations"]

MAX_IDS = 200


@implements(READ_CORRELATIONS)
@reports_cpi_calls
async def read_correlations(ctx: JobContext, tenant_id: int, correlation_ids: list[str]) -> dict[str, object]:
    """Fetch and upsert all message logs of each correlation id."""
    ids = sorted({c for c in correlation_ids if c})
    if len(ids) > MAX_IDS:
        raise PermanentJobError(f"at most {MAX_IDS} correlation ids per job, got {len(ids)}")
    sessions = ctx.resources.sessions
    received = changed = 0
    failures: list[CpiError] = []
    async with tenant_client(ctx.resources, tenant_id) as cpi:
        for cid in ids:
            try:
                logs = await cpi.message_logs_by_correlation_id(cid)
            except CpiError as exc:
                if not exc.transient:
                    raise
                failures.append(exc)
                continue
            result = await asyncio.to_thread(store_logs, sessions, tenant_id, logs)
            received += result.received
            changed += len(result.changed)
    if failures:
        raise RetryableJobError(f"{len(failures)} of {len(ids)} correlations failed: {failures[0]}")
    return {"correlations": len(ids), "received": received, "changed": changed}
