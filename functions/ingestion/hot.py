"""``read_message_logs``: the hot path that follows new message logs of a tenant.

Choice (documented in docs/ingestion.md): pages are stored INLINE by the reader, one transaction per page
that also moves the ``hot`` watermark to the page's latest LogEnd. This is the fast path (no
page payloads through Redis) and the strongest guarantee: a crash at any point leaves the watermark
at or behind committed rows, so the next run re-reads from there and the upsert absorbs the overlap.

Each run reads ``(watermark - overlap, now]``: CPI may report a LogEnd a little in the past after we
already read that range, and the overlap re-reads it. A first run starts ``lookback_s`` ago, or at
the cold backfill's upper bound if that is earlier, so hot and cold leave no gap between them.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.queues.catalog import GET_MESSAGE_DETAILS_HOT, READ_MESSAGE_LOGS
from core.settings import Settings
from functions.ingestion.followups import after_logs_stored
from functions.ingestion.pages import PumpStats, pump_pages, store_logs
from functions.ingestion.tenant_api import reports_cpi_calls, tenant_client
from functions.ingestion.watermarks import read_watermark, write_watermark
from functions.registry import implements
from functions.runner.context import JobContext

__all__ = ["HOT", "hot_window_start", "read_message_logs"]

HOT = "hot"


def hot_window_start(sessions: sessionmaker[Session], tenant_id: int, now: datetime,
                     overlap_s: float, lookback_s: float) -> datetime:
    """Where this run starts reading (see the module docstring)."""
    with sessions() as session:
        hot = read_watermark(session, tenant_id, HOT)
        if hot.position is not None:
            return hot.position - timedelta(seconds=overlap_s)
        start = now - timedelta(seconds=lookback_s)
        cold_until = read_watermark(session, tenant_id, "cold").cursor.get("until")
    if cold_until:
        start = min(start, datetime.fromisoformat(cold_until))
    return start


def _finish(sessions: sessionmaker[Session], tenant_id: int, until: datetime) -> None:
    """Every log with LogEnd <= until was read and committed: the watermark may move to ``until``."""
    with sessions() as session, session.begin():
        write_watermark(session, tenant_id, HOT, until, {"last_run_until": until.isoformat()}, monotonic=True)


@implements(READ_MESSAGE_LOGS)
@reports_cpi_calls
async def read_message_logs(ctx: JobContext, tenant_id: int, overlap_s: float = 60.0,
                            lookback_s: float = 3600.0) -> dict[str, object]:
    """Read new logs since the hot watermark, store them, and queue detail/header sweeps."""
    sessions = ctx.resources.sessions
    now = utcnow()
    start = await asyncio.to_thread(hot_window_start, sessions, tenant_id, now, overlap_s, lookback_s)
    stats = await _read_range(ctx.settings, sessions, tenant_id, start, now, ctx)
    await asyncio.to_thread(_finish, sessions, tenant_id, now)
    queued = await after_logs_stored(ctx.resources, tenant_id, GET_MESSAGE_DETAILS_HOT, stats.changed)
    return {**stats.as_dict(), "from": start.isoformat(), "until": now.isoformat(), "queued": queued}


async def _read_range(settings: Settings, sessions: sessionmaker[Session], tenant_id: int,
                      start: datetime, until: datetime, ctx: JobContext) -> PumpStats:
    async def report(stats: PumpStats) -> None:
        await ctx.progress(stats.received, None, f"{stats.pages} pages read")

    async with tenant_client(ctx.resources, tenant_id) as cpi:
        return await pump_pages(cpi.iter_message_logs(start, until),
                                lambda logs: store_logs(sessions, tenant_id, logs, HOT), report)
