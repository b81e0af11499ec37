"""``settle_message_logs``: re-read recent history so message logs that CPI makes visible late are stored.

The hot reader re-reads only ``overlap_s`` (60 s) behind its watermark, and the cold backfill never
returns to days it completed; a loaded CPI tenant persists some logs minutes after their LogEnd, and
those would be missed for good. The settle pass reads ``(now - window, now]`` with the same page pump
and upsert as the hot path (unchanged rows are not written, new or changed rows are stored and marked
for stats), in two tiers, both ``config_ext`` keys (per tenant or global, ``core/config_keys.py``):

- every run (``poll.settle.interval_s``, default 600 s): the last ``ingest.settle.recent_s`` (7,200 s);
- when ``ingest.settle.day_every_s`` (3,600 s) has passed since the last deep run: the last
  ``ingest.settle.day_s`` (86,400 s) instead (it covers the recent window).

So a log visible at most 2 h after its LogEnd is stored within one settle interval (10 min) of becoming
visible, and one visible within a day within an hour. Its CPI requests go through the tenant's client,
so they wait on the same per-tenant rate limiter as every other reader; the result reports ``pages``
(one request each) so the cost per tenant and hour can be watched (docs/ingestion.md has the sums).
The ``settle`` watermark keeps when the last deep run happened (``cursor.day_at``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.config_keys import read_int
from core.db.models.base import utcnow
from core.queues.catalog import GET_MESSAGE_DETAILS_HOT, SETTLE_MESSAGE_LOGS
from functions.ingestion.followups import after_logs_stored
from functions.ingestion.pages import PumpStats, pump_pages, store_logs
from functions.ingestion.tenant_api import reports_cpi_calls, tenant_client
from functions.ingestion.watermarks import read_watermark, write_watermark
from functions.registry import implements
from functions.runner.context import JobContext

__all__ = ["SETTLE", "SettlePlan", "plan_settle", "settle_message_logs"]

SETTLE = "settle"


@dataclass(frozen=True, slots=True)
class SettlePlan:
    """Which window this run reads: ``deep`` is the day tier."""

    start: datetime
    window_s: int
    deep: bool


def plan_settle(sessions: sessionmaker[Session], tenant_id: int, now: datetime) -> SettlePlan:
    """The recent window, or the day window when its interval has passed since the last deep run."""
    with sessions() as session:
        recent_s = read_int(session, "ingest.settle.recent_s", tenant_id)
        day_s = read_int(session, "ingest.settle.day_s", tenant_id)
        day_every_s = read_int(session, "ingest.settle.day_every_s", tenant_id)
        mark = read_watermark(session, tenant_id, SETTLE)
    last_deep = mark.cursor.get("day_at")
    deep = last_deep is None or now - datetime.fromisoformat(last_deep) >= timedelta(seconds=day_every_s)
    window_s = max(day_s, recent_s) if deep else recent_s
    return SettlePlan(now - timedelta(seconds=window_s), window_s, deep)


def _finish(sessions: sessionmaker[Session], tenant_id: int, now: datetime, plan: SettlePlan, pages: int) -> None:
    with sessions() as session, session.begin():
        mark = read_watermark(session, tenant_id, SETTLE, lock=True)
        day_at = now.isoformat() if plan.deep else mark.cursor.get("day_at")
        write_watermark(session, tenant_id, SETTLE, now,
                        {"day_at": day_at, "last_window_s": plan.window_s, "last_pages": pages})


@implements(SETTLE_MESSAGE_LOGS)
@reports_cpi_calls
async def settle_message_logs(ctx: JobContext, tenant_id: int) -> dict[str, object]:
    """Re-read the recent (or, hourly, the last day's) message logs and store what was missing or changed."""
    sessions = ctx.resources.sessions
    now = utcnow()
    plan = await asyncio.to_thread(plan_settle, sessions, tenant_id, now)

    async def report(stats: PumpStats) -> None:
        await ctx.progress(stats.received, None, f"{stats.pages} pages re-read")

    async with tenant_client(ctx.resources, tenant_id) as cpi:
        stats = await pump_pages(cpi.iter_message_logs(plan.start, now),
                                 lambda logs: store_logs(sessions, tenant_id, logs), report)
    await asyncio.to_thread(_finish, sessions, tenant_id, now, plan, stats.pages)
    queued = await after_logs_stored(ctx.resources, tenant_id, GET_MESSAGE_DETAILS_HOT, stats.changed)
    return {**stats.as_dict(), "window": "day" if plan.deep else "recent", "window_s": plan.window_s,
            "from": plan.start.isoformat(), "until": now.isoformat(), "queued": queued}
