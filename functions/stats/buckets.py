"""Incremental stats: find the hour/day buckets touched since the watermark and rebuild only those.

The watermark is the newest ``message_log.stored_at`` aggregated. Rows written after it (new or
re-upserted logs) name the buckets to rebuild; each rebuilt bucket is replaced whole, so the work is
idempotent, and a small overlap behind the watermark catches rows committed late with older stamps.
A touched day is read once: its rows give the day cell and the cells of its touched hours.
Bucket time is LogEnd, else LogStart; durations and hour offsets are computed by the database
(rounded to 0.1 ms: SQLite's julianday arithmetic is only that precise).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.orm import Session

from core.db.models.base import utcnow
from core.db.models.messages import MessageLog
from core.db.models.stats import StatsBucket, StatsWatermark
from functions.stats.aggregate import Cell, CellKey, MessageRow, aggregate

__all__ = ["TenantUpdate", "update_tenant"]

OVERLAP = timedelta(minutes=2)
HOUR_S = 3600
UNIX_JULIAN_DAY = 2440587.5


@dataclass(frozen=True, slots=True)
class TenantUpdate:
    """What one incremental pass did for a tenant."""

    tenant_id: int
    hours: int
    days: int
    rows_scanned: int


def _epoch_s(session: Session, column: Any) -> ColumnElement[Any]:
    """Seconds since 1970 (UTC) of a timestamp column, on PostgreSQL or SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", column)
    return (func.julianday(column) - UNIX_JULIAN_DAY) * 86400.0


def _touched_hours(session: Session, tenant_id: int, since: datetime | None) -> set[datetime]:
    """Hours (by LogEnd, else LogStart) of logs stored after ``since`` (all when None)."""
    moment = func.coalesce(MessageLog.log_end, MessageLog.log_start)
    hour = func.floor(_epoch_s(session, moment) / HOUR_S)
    query = select(hour).where(MessageLog.tenant_id == tenant_id, moment.is_not(None)).distinct()
    if since is not None:
        query = query.where(MessageLog.stored_at > since - OVERLAP)
    return {datetime.fromtimestamp(int(h) * HOUR_S, UTC) for (h,) in session.execute(query)}


def _ms(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _day_rows(session: Session, tenant_id: int, day: datetime) -> list[tuple[int, MessageRow]]:
    """(hour of day, row) for the tenant's logs of ``day``; two queries so the log_end index serves most."""
    start_s = day.timestamp()
    duration = (_epoch_s(session, MessageLog.log_end) - _epoch_s(session, MessageLog.log_start)) * 1000.0
    found: list[tuple[int, MessageRow]] = []
    for moment, extra in ((MessageLog.log_end, None), (MessageLog.log_start, MessageLog.log_end.is_(None))):
        offset = _epoch_s(session, moment) - start_s
        query = select(MessageLog.package_id, MessageLog.iflow_id, MessageLog.status, duration, offset).where(
            MessageLog.tenant_id == tenant_id, moment >= day, moment < day + timedelta(days=1))
        if extra is not None:
            query = query.where(extra)
        found += [(int(float(off) // HOUR_S), MessageRow(pkg, flow, status, _ms(ms)))
                  for pkg, flow, status, ms, off in session.execute(query)]
    return found


def _replace_bucket(session: Session, tenant_id: int, granularity: str, start: datetime,
                    cells: dict[CellKey, Cell]) -> None:
    session.execute(delete(StatsBucket).where(
        StatsBucket.tenant_id == tenant_id, StatsBucket.granularity == granularity,
        StatsBucket.bucket_start == start))
    if not cells:
        return
    now = utcnow()
    session.execute(insert(StatsBucket), [
        {"tenant_id": tenant_id, "granularity": granularity, "bucket_start": start, "package_id": pkg,
         "iflow_id": flow, "status": status, "message_count": cell.count, "failed_count": cell.failed,
         "failure_rate": cell.failure_rate, "p50_ms": cell.p(0.5), "p95_ms": cell.p(0.95), "updated_at": now}
        for (pkg, flow, status), cell in cells.items()
    ])


def _rebuild_day(session: Session, tenant_id: int, day: datetime, hours: list[datetime]) -> int:
    rows = _day_rows(session, tenant_id, day)
    by_hour: dict[int, list[MessageRow]] = defaultdict(list)
    for hour, row in rows:
        by_hour[hour].append(row)
    for hour_start in hours:
        index = int((hour_start - day).total_seconds() // HOUR_S)
        _replace_bucket(session, tenant_id, "hour", hour_start, aggregate(by_hour.get(index, [])))
    _replace_bucket(session, tenant_id, "day", day, aggregate(row for _, row in rows))
    return len(rows)


def update_tenant(session: Session, tenant_id: int, *, full: bool = False) -> TenantUpdate:
    """Rebuild the buckets touched since the tenant's watermark, then advance it (one transaction)."""
    mark = session.get(StatsWatermark, tenant_id, with_for_update=True)
    since = None if full or mark is None else mark.position
    newest = session.scalar(select(func.max(MessageLog.stored_at)).where(MessageLog.tenant_id == tenant_id))
    hours = _touched_hours(session, tenant_id, since) if newest is not None else set()
    days: dict[datetime, list[datetime]] = defaultdict(list)
    for hour in sorted(hours):
        days[hour.replace(hour=0)].append(hour)
    scanned = sum(_rebuild_day(session, tenant_id, day, day_hours) for day, day_hours in days.items())
    if mark is None:
        mark = StatsWatermark(tenant_id=tenant_id)
        session.add(mark)
    if newest is not None:
        mark.position = newest
    return TenantUpdate(tenant_id, len(hours), len(days), scanned)
