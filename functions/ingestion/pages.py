"""Storing pages of message logs: one transaction per page, and fetching the next page while the
previous one is being written (the DB write runs in a thread, the HTTP read in the event loop).

Pages are committed strictly in order (the next commit starts only after the previous finished), so
a watermark written with page N never runs ahead of pages 1..N-1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from core.cpi.models import MessageLog, MessageLogPage
from core.db.dialect import is_postgres
from functions.ingestion.rows import DETAIL_STATUSES
from functions.ingestion.upsert import UpsertResult, upsert_message_logs
from functions.ingestion.watermarks import write_watermark

__all__ = ["PumpStats", "pump_pages", "store_logs"]

_RELAXED_COMMIT = text("SET LOCAL synchronous_commit = off")


@dataclass(slots=True)
class PumpStats:
    """What a run read and wrote; ``needs_details`` counts new/changed FAILED or ESCALATED rows."""

    pages: int = 0
    received: int = 0
    changed: int = 0
    needs_details: int = 0
    last_log_end: datetime | None = None
    failed_guids: list[str] = field(default_factory=list)

    def add(self, logs: list[MessageLog], result: UpsertResult) -> None:
        self.pages += 1
        self.received += result.received
        self.changed += len(result.changed)
        failed = [guid for guid, status in result.changed if status in DETAIL_STATUSES]
        self.needs_details += len(failed)
        self.failed_guids.extend(failed[: max(0, 1000 - len(self.failed_guids))])
        ends = [log.log_end for log in logs if log.log_end is not None]
        if ends and (self.last_log_end is None or max(ends) > self.last_log_end):
            self.last_log_end = max(ends)

    def merge(self, other: PumpStats) -> None:
        self.pages += other.pages
        self.received += other.received
        self.changed += other.changed
        self.needs_details += other.needs_details
        if other.last_log_end and (self.last_log_end is None or other.last_log_end > self.last_log_end):
            self.last_log_end = other.last_log_end

    def as_dict(self) -> dict[str, object]:
        return {"pages": self.pages, "received": self.received, "changed": self.changed,
                "needs_details": self.needs_details,
                "last_log_end": self.last_log_end.isoformat() if self.last_log_end else None}


def store_logs(sessions: sessionmaker[Session], tenant_id: int, logs: list[MessageLog],
               watermark_kind: str | None = None, *, refetchable: bool = True) -> UpsertResult:
    """Upsert one page; with ``watermark_kind`` the page's latest LogEnd becomes the (monotonic)
    watermark in the SAME transaction, so the watermark can never be ahead of committed rows.

    ``refetchable`` pages (read from CPI, which keeps them 30 days) commit without waiting for the
    WAL flush (PostgreSQL ``synchronous_commit = off``): about twice the write rate. It is safe
    because a PostgreSQL crash can only lose the LAST transactions, in commit order, so a lost page
    takes every later watermark with it and the next run reads it again from CPI. Pages whose only
    copy is a job payload (``process_message_batch``) must pass ``refetchable=False``.
    """
    with sessions() as session, session.begin():
        if refetchable and is_postgres(session):
            session.execute(_RELAXED_COMMIT)
        result = upsert_message_logs(session, tenant_id, logs)
        ends = [log.log_end for log in logs if log.log_end is not None]
        if watermark_kind and ends:
            write_watermark(session, tenant_id, watermark_kind, max(ends), monotonic=True)
    return result


StorePage = Callable[[list[MessageLog]], UpsertResult]


async def pump_pages(pages: AsyncIterator[MessageLogPage], store: StorePage,
                     on_page: Callable[[PumpStats], Awaitable[None]] | None = None) -> PumpStats:
    """Read pages and store each with ``store`` (in a thread), overlapping one read with one write."""
    stats = PumpStats()
    pending: asyncio.Future[UpsertResult] | None = None
    pending_logs: list[MessageLog] = []
    try:
        async for page in pages:
            if pending is not None:
                stats.add(pending_logs, await pending)
                if on_page is not None:
                    await on_page(stats)
            pending_logs = list(page.logs)
            pending = asyncio.ensure_future(asyncio.to_thread(store, pending_logs))
    finally:
        if pending is not None:
            # Let an in-flight commit finish even when reading failed: its rows are good.
            result = await asyncio.shield(pending)
            stats.add(pending_logs, result)
    return stats
