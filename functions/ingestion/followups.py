"""Work a reader leaves for other queues: detail sweeps, custom headers, correlations, payloads.

Sweeps are enqueued with a dedup key per tenant and kind, so however often readers ask there is at
most one unfinished sweep per tenant; the sweep reads its work list from the database when it runs,
so nothing is lost if an enqueue is skipped or Redis is flushed (the next reader run asks again).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable

from sqlalchemy import exists, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.messages import DETAILS_PENDING_SQL, MessageLog
from core.queues.catalog import READ_CORRELATIONS, READ_CUSTOM_HEADERS, FunctionSpec
from core.queues.enqueue import EnqueueRequest
from core.resources import Resources

__all__ = ["after_logs_stored", "details_pending", "enqueue_correlations", "enqueue_sweep"]


def details_pending(sessions: sessionmaker[Session], tenant_id: int) -> bool:
    """Whether any failed message of the tenant still lacks its details (uses the partial index)."""
    with sessions() as session:
        query = select(exists().where(MessageLog.tenant_id == tenant_id, text(DETAILS_PENDING_SQL)))
        return bool(session.scalar(query))


async def enqueue_sweep(resources: Resources, spec: FunctionSpec, tenant_id: int, **kwargs: object) -> str | None:
    """One sweep job per tenant and function at a time (dedup key), returns its id or None."""
    return await resources.enqueuer.enqueue(
        spec, {"tenant_id": tenant_id, **kwargs}, tenant_id=tenant_id,
        dedup_key=f"ingest:{spec.name}:{tenant_id}")


async def enqueue_correlations(resources: Resources, tenant_id: int, correlation_ids: Iterable[str | None]) -> int:
    """Ask for the full chains of these correlations, 50 ids per job (deduplicated by content)."""
    ids = sorted({cid for cid in correlation_ids if cid})
    requests = []
    for start in range(0, len(ids), 50):
        chunk = ids[start:start + 50]
        digest = hashlib.sha1("\n".join(chunk).encode(), usedforsecurity=False).hexdigest()[:20]
        kwargs = {"tenant_id": tenant_id, "correlation_ids": chunk}
        requests.append(EnqueueRequest(READ_CORRELATIONS, kwargs, tenant_id=tenant_id,
                                       dedup_key=f"ingest:correlations:{tenant_id}:{digest}"))
    if not requests:
        return 0
    return len(await resources.enqueuer.enqueue_many(requests))


async def after_logs_stored(resources: Resources, tenant_id: int, details_function: FunctionSpec,
                            changed: int) -> dict[str, bool]:
    """Enqueue the detail sweep when failed messages wait for details, and the header sweep after new rows."""
    queued: dict[str, bool] = {}
    if await asyncio.to_thread(details_pending, resources.sessions, tenant_id):
        queued[details_function.name] = await enqueue_sweep(resources, details_function, tenant_id) is not None
    if changed:
        queued[READ_CUSTOM_HEADERS.name] = await enqueue_sweep(resources, READ_CUSTOM_HEADERS, tenant_id) is not None
    return queued
