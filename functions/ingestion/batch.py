"""``process_message_batch`` / ``_cold``: the durable upsert of a page handed over as job payload.

Readers store their own pages inline (see ``hot.py``); these jobs serve producers that hand pages
over instead (a tool replaying an export, a reader on another host, a correlation fetch ...). The
payload is the raw CPI entities; the job parses them with the client's own parser and upserts them,
optionally moving a watermark in the same transaction (never backwards). Re-running a batch job
changes nothing, so the runtime's retries and a worker killed mid-batch are harmless.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from core.cpi.models import MessageLog
from core.errors import PermanentJobError
from core.queues.catalog import (
    GET_MESSAGE_DETAILS_COLD,
    GET_MESSAGE_DETAILS_HOT,
    PROCESS_MESSAGE_BATCH,
    PROCESS_MESSAGE_BATCH_COLD,
    FunctionSpec,
)
from functions.ingestion.followups import after_logs_stored
from functions.ingestion.upsert import UpsertResult, upsert_message_logs
from functions.ingestion.watermarks import write_watermark
from functions.registry import implements
from functions.runner.context import JobContext

__all__ = ["process_message_batch", "process_message_batch_cold"]

MAX_BATCH = 5000


def _parse(entities: list[dict[str, Any]]) -> list[MessageLog]:
    try:
        return [MessageLog.from_entity(e) for e in entities]
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise PermanentJobError(f"batch holds an entity that is not a MessageProcessingLog: {exc}") from exc


def _store(ctx: JobContext, tenant_id: int, logs: list[MessageLog], kind: str | None,
           advance_to: str | None) -> UpsertResult:
    with ctx.resources.sessions() as session, session.begin():
        result = upsert_message_logs(session, tenant_id, logs)
        if kind and advance_to:
            write_watermark(session, tenant_id, kind, datetime.fromisoformat(advance_to), monotonic=True)
    return result


async def _process(ctx: JobContext, tenant_id: int, entities: list[dict[str, Any]], kind: str | None,
                   advance_to: str | None, details_function: FunctionSpec) -> dict[str, object]:
    if len(entities) > MAX_BATCH:
        raise PermanentJobError(f"a batch holds at most {MAX_BATCH} logs, got {len(entities)}")
    logs = _parse(entities)
    result = await asyncio.to_thread(_store, ctx, tenant_id, logs, kind, advance_to)
    queued = await after_logs_stored(ctx.resources, tenant_id, details_function, len(result.changed))
    return {"received": result.received, "changed": len(result.changed), "queued": queued}


@implements(PROCESS_MESSAGE_BATCH)
async def process_message_batch(ctx: JobContext, tenant_id: int, entities: list[dict[str, Any]],
                                watermark_kind: str | None = None, advance_to: str | None = None) -> dict[str, object]:
    """Upsert a page of fresh logs (details of new failures go to the hot details queue)."""
    return await _process(ctx, tenant_id, entities, watermark_kind, advance_to, GET_MESSAGE_DETAILS_HOT)


@implements(PROCESS_MESSAGE_BATCH_COLD)
async def process_message_batch_cold(ctx: JobContext, tenant_id: int, entities: list[dict[str, Any]],
                                     watermark_kind: str | None = None,
                                     advance_to: str | None = None) -> dict[str, object]:
    """Upsert a page of backfilled logs (details go to the cold details queue)."""
    return await _process(ctx, tenant_id, entities, watermark_kind, advance_to, GET_MESSAGE_DETAILS_COLD)
