"""``read_message_logs_cold``: backfill a tenant's history in UTC day windows, newest day first.

The ``cold`` watermark's ``cursor.until`` is fixed by the first run (the moment the backfill
started); ``position`` is the lower edge of the oldest window fully stored, so everything in
``(position, until]`` is in the database. A window's rows are committed page by page, and the
watermark moves down to the window's lower edge only after its last page is committed. A crash
mid-window re-reads that window; the upsert makes the re-read harmless. Asking for more ``days``
later simply continues further back.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.db.models.scheduling import ConfigExt
from core.errors import PermanentJobError
from core.queues.catalog import GET_MESSAGE_DETAILS_COLD, READ_MESSAGE_LOGS_COLD
from functions.ingestion.followups import after_logs_stored
from functions.ingestion.pages import PumpStats, pump_pages, store_logs
from functions.ingestion.tenant_api import reports_cpi_calls, tenant_client
from functions.ingestion.watermarks import read_watermark, write_watermark
from functions.registry import implements
from functions.runner.context import JobContext

__all__ = ["COLD", "DAYS_KEY", "configured_days", "day_windows", "read_message_logs_cold"]

COLD = "cold"
MAX_DAYS = 366
DEFAULT_DAYS = 7
DAYS_KEY = "ingest.cold_days"  # ConfigExt key: backfill depth per tenant (or global), when not passed


def configured_days(sessions: sessionmaker[Session], tenant_id: int) -> int:
    """``ingest.cold_days`` of the tenant, else the global value, else 7 (the controller passes no days)."""
    query = (select(ConfigExt.value).where(ConfigExt.key == DAYS_KEY,
                                          or_(ConfigExt.tenant_id == tenant_id, ConfigExt.tenant_id.is_(None)))
             .order_by(ConfigExt.tenant_id.is_(None)))
    with sessions() as session:
        value = session.scalars(query).first()
    try:
        return int(value) if value is not None else DEFAULT_DAYS
    except (TypeError, ValueError):
        raise PermanentJobError(f"config {DAYS_KEY}={value!r} is not a whole number of days") from None


def day_windows(position: datetime, floor: datetime) -> list[tuple[datetime, datetime]]:
    """``(lo, hi]`` windows from ``position`` down to ``floor``, cut at UTC midnights, newest first."""
    windows = []
    hi = position
    while hi > floor:
        midnight = hi.replace(hour=0, minute=0, second=0, microsecond=0)
        lo = midnight if midnight < hi else midnight - timedelta(days=1)
        lo = max(lo, floor)
        windows.append((lo, hi))
        hi = lo
    return windows


def _plan(sessions: sessionmaker[Session], tenant_id: int, days: int) -> tuple[datetime, datetime, datetime]:
    """(until, position, floor) of the backfill; fixes ``until`` on the first run."""
    with sessions() as session, session.begin():
        mark = read_watermark(session, tenant_id, COLD, lock=True)
        until_text = mark.cursor.get("until")
        if until_text:
            until = datetime.fromisoformat(until_text)
        else:
            until = utcnow()
            write_watermark(session, tenant_id, COLD, until, {"until": until.isoformat()})
        position = mark.position or until
    return until, position, until - timedelta(days=days)


def _window_done(sessions: sessionmaker[Session], tenant_id: int, lo: datetime, until: datetime, days: int) -> None:
    with sessions() as session, session.begin():
        write_watermark(session, tenant_id, COLD, lo, {"until": until.isoformat(), "days": days})


def _advance(sessions: sessionmaker[Session], tenant_id: int, windows: list[tuple[datetime, datetime]],
             results: list[PumpStats | BaseException], until: datetime, days: int) -> int:
    """Move the watermark down over the leading run of windows that completed; returns that count."""
    done = 0
    for (lo, _hi), result in zip(windows, results, strict=True):
        if isinstance(result, BaseException):
            break
        done += 1
        _window_done(sessions, tenant_id, lo, until, days)
    return done


@implements(READ_MESSAGE_LOGS_COLD)
@reports_cpi_calls
async def read_message_logs_cold(ctx: JobContext, tenant_id: int, days: int | None = None,
                                 budget_s: float | None = None, parallel: int = 2) -> dict[str, object]:
    """Backfill up to ``days`` (default: config ``ingest.cold_days``, else 7) before the backfill
    started; stops early after ``budget_s`` (default: 80% of the job timeout) and reports
    ``complete: false`` so the next dispatch continues.

    ``parallel`` day windows are read at once (CPI answers one while we store another); the
    watermark still only moves down over windows that are complete, newest first.
    """
    sessions = ctx.resources.sessions
    if days is None:
        days = await asyncio.to_thread(configured_days, sessions, tenant_id)
    if not 1 <= int(days) <= MAX_DAYS:
        raise PermanentJobError(f"days must be between 1 and {MAX_DAYS}, got {days}")
    deadline = time.monotonic() + (budget_s if budget_s is not None else ctx.spec.timeout_s * 0.8)
    until, position, floor = await asyncio.to_thread(_plan, sessions, tenant_id, int(days))
    windows = day_windows(position, floor)
    total = PumpStats()
    done = 0
    async with tenant_client(ctx.resources, tenant_id) as cpi:
        while done < len(windows) and time.monotonic() < deadline:
            chunk = windows[done:done + max(1, int(parallel))]
            results = await asyncio.gather(
                *(pump_pages(cpi.iter_message_logs(lo, hi), lambda logs: store_logs(sessions, tenant_id, logs))
                  for lo, hi in chunk), return_exceptions=True)
            finished = await asyncio.to_thread(_advance, sessions, tenant_id, chunk, results, until, int(days))
            for result in results[:finished]:
                if isinstance(result, PumpStats):
                    total.merge(result)
            done += finished
            await ctx.progress(done, len(windows), f"{done} of {len(windows)} day windows stored")
            failure = next((r for r in results if isinstance(r, BaseException)), None)
            if failure is not None:
                raise failure
    queued = await after_logs_stored(ctx.resources, tenant_id, GET_MESSAGE_DETAILS_COLD, total.changed)
    return {**total.as_dict(), "windows": done, "windows_left": len(windows) - done,
            "complete": done == len(windows), "until": until.isoformat(), "queued": queued}
