"""``read_payloads`` lists persisted messages (MessageStoreEntries) of stored message logs;
``get_payload_details`` downloads their bodies into object storage.

CPI lists message store entries per message only, so ``read_payloads`` walks stored logs in LogEnd
order from its ``payloads`` watermark, ``limit`` messages per run, and moves the watermark in the
same transaction that stores the entries it found. Bodies go to ``payloads/<tenant>/<guid>/<id>``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.cpi import CpiClient, CpiNotFound, MessageStoreEntry
from core.db.dialect import insert_ignoring
from core.db.models.base import utcnow
from core.db.models.message_details import PayloadEntry
from core.db.models.messages import MessageLog
from core.queues.catalog import GET_PAYLOAD_DETAILS, READ_PAYLOADS
from core.storage import open_store
from functions.ingestion.followups import enqueue_sweep
from functions.ingestion.packages import safe_key_part
from functions.ingestion.tenant_api import reports_cpi_calls, tenant_client
from functions.ingestion.watermarks import read_watermark, write_watermark
from functions.registry import implements
from functions.runner.context import JobContext

__all__ = ["get_payload_details", "payload_key", "read_payloads"]

PAYLOADS = "payloads"
PARALLEL = 8


def payload_key(tenant_id: int, guid: str, entry_id: str) -> str:
    return f"payloads/{tenant_id}/{safe_key_part(guid)}/{safe_key_part(entry_id)}"


def _next_messages(sessions: sessionmaker[Session], tenant_id: int, lookback_s: float,
                   limit: int) -> list[tuple[str, datetime]]:
    with sessions() as session:
        mark = read_watermark(session, tenant_id, PAYLOADS)
        start = mark.position or utcnow() - timedelta(seconds=lookback_s)
        query = (select(MessageLog.message_guid, MessageLog.log_end)
                 .where(MessageLog.tenant_id == tenant_id, MessageLog.log_end > start, MessageLog.log_end.is_not(None))
                 .order_by(MessageLog.log_end, MessageLog.message_guid).limit(limit + 1))
        found = [(g, e) for g, e in session.execute(query) if e is not None]
    if len(found) > limit:
        # The watermark means "LogEnd > position": never stop inside a run of equal LogEnds.
        boundary = found[limit][1]
        found = [(g, e) for g, e in found[:limit] if e < boundary] or found[:limit]
    return found


def _save_entries(sessions: sessionmaker[Session], tenant_id: int, entries: list[MessageStoreEntry],
                  position: datetime | None) -> None:
    rows = [{"tenant_id": tenant_id, "entry_id": e.id[:255], "message_guid": e.message_guid or "",
             "message_store_id": e.message_store_id, "timestamp": e.timestamp,
             "has_attachments": bool(e.has_attachments), "stored_at": utcnow()} for e in entries]
    with sessions() as session, session.begin():
        if rows:
            session.execute(insert_ignoring(session, PayloadEntry, ["tenant_id", "entry_id"]), rows)
        if position is not None:
            write_watermark(session, tenant_id, PAYLOADS, position, monotonic=True)


async def _entries(cpi: CpiClient, guids: list[str]) -> list[MessageStoreEntry]:
    gate = asyncio.Semaphore(PARALLEL)

    async def one(guid: str) -> list[MessageStoreEntry]:
        async with gate:
            try:
                found = await cpi.message_store_entries(guid)
            except CpiNotFound:
                return []
            return [e if e.message_guid else MessageStoreEntry(e.id, guid, e.message_store_id, e.timestamp,
                                                                e.has_attachments) for e in found]

    return [entry for batch in await asyncio.gather(*(one(g) for g in guids)) for entry in batch]


@implements(READ_PAYLOADS)
@reports_cpi_calls
async def read_payloads(ctx: JobContext, tenant_id: int, limit: int = 500,
                        lookback_s: float = 3600.0) -> dict[str, object]:
    """List message store entries of the next ``limit`` stored messages after the watermark."""
    sessions = ctx.resources.sessions
    messages = await asyncio.to_thread(_next_messages, sessions, tenant_id, lookback_s, limit)
    async with tenant_client(ctx.resources, tenant_id) as cpi:
        entries = await _entries(cpi, [g for g, _ in messages])
    position = messages[-1][1] if messages else None
    await asyncio.to_thread(_save_entries, sessions, tenant_id, entries, position)
    queued = bool(entries) and await enqueue_sweep(ctx.resources, GET_PAYLOAD_DETAILS, tenant_id) is not None
    return {"messages": len(messages), "entries": len(entries), "details_queued": queued}


def _undownloaded(sessions: sessionmaker[Session], tenant_id: int, guid: str | None,
                  limit: int) -> list[tuple[str, str]]:
    query = select(PayloadEntry.entry_id, PayloadEntry.message_guid).where(PayloadEntry.tenant_id == tenant_id)
    query = query.where(PayloadEntry.message_guid == guid) if guid else query.where(PayloadEntry.fetched_at.is_(None))
    with sessions() as session:
        return [(e, g) for e, g in session.execute(query.order_by(PayloadEntry.id.desc()).limit(limit))]


def _mark_stored(sessions: sessionmaker[Session], tenant_id: int, entry_id: str, key: str | None, size: int) -> None:
    with sessions() as session, session.begin():
        session.execute(update(PayloadEntry)
                        .where(PayloadEntry.tenant_id == tenant_id, PayloadEntry.entry_id == entry_id)
                        .values(object_key=key, size_bytes=size, fetched_at=utcnow()))


@implements(GET_PAYLOAD_DETAILS)
@reports_cpi_calls
async def get_payload_details(ctx: JobContext, tenant_id: int, message_guid: str | None = None,
                              limit: int = 100) -> dict[str, object]:
    """Download persisted payloads (of one message, or the next ``limit`` not yet downloaded) into
    object storage; the row points at the object only after the object was written."""
    sessions = ctx.resources.sessions
    store = open_store(ctx.settings)
    todo = await asyncio.to_thread(_undownloaded, sessions, tenant_id, message_guid, limit)
    stored = gone = 0
    async with tenant_client(ctx.resources, tenant_id) as cpi:
        for entry_id, guid in todo:
            try:
                body = await cpi.message_store_payload(entry_id)
            except CpiNotFound:
                await asyncio.to_thread(_mark_stored, sessions, tenant_id, entry_id, None, 0)
                gone += 1
                continue
            key = payload_key(tenant_id, guid, entry_id)
            await asyncio.to_thread(store.put_bytes, key, body, "application/octet-stream")
            await asyncio.to_thread(_mark_stored, sessions, tenant_id, entry_id, key, len(body))
            stored += 1
    return {"entries": len(todo), "stored": stored, "gone": gone}
