"""Incremental stats: rebuild exactly the hours marked dirty, and their days.

Triggers on ``message_log`` (migration 1001) write the old and the new hour of every inserted log and
of every log whose LogEnd, LogStart, status, iflow or package changed into ``stats_dirty``, in the
writing transaction. A pass locks the tenant's ``stats_watermark`` row (one pass per tenant at a time),
takes the dirty hours with ``DELETE … RETURNING`` and rebuilds those hours and their days from
``message_log``. Why this is exact: a mark is visible to the DELETE only if the change that wrote it
committed before the DELETE ran, and then the rebuild (later statements) sees that change too; a mark
of a change still uncommitted (a transaction held open, a late commit) is invisible, so it stays and
the first pass after the commit consumes it. There is no watermark that could move past it.
A tenant without a ``stats_watermark`` row gets one full rebuild (first pass, or after migration 1001): every
day that holds logs is rebuilt; days without logs (pruned) keep their cells.
Bucket time is LogEnd, else LogStart; durations and hour offsets are computed by the database
(rounded to 0.1 ms: SQLite's julianday arithmetic is only that precise).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Float, Integer, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from core.db.dialect import insert_ignoring, is_postgres
from core.db.models.base import utcnow
from core.db.models.messages import MessageLog
from core.db.models.stats import StatsBucket, StatsDirty, StatsWatermark
from functions.stats.aggregate import Cell, CellKey, MessageRow, aggregate

__all__ = ["TenantUpdate", "update_tenant"]

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
    if is_postgres(session):
        return func.extract("epoch", column)
    return (func.julianday(column) - UNIX_JULIAN_DAY) * 86400.0


def _hour_of(session: Session, column: Any) -> ColumnElement[Any]:
    """UTC epoch hour of a timestamp, computed exactly as the marking triggers of migration 1001 do."""
    if is_postgres(session):
        return func.cast(func.floor(func.extract("epoch", column) / HOUR_S), BigInteger)
    return func.cast(func.strftime("%s", column), Integer) / HOUR_S


def _all_hours(session: Session, tenant_id: int) -> set[int]:
    """Every hour (UTC epoch hours of LogEnd, else LogStart) that holds a log of the tenant."""
    moment = func.coalesce(MessageLog.log_end, MessageLog.log_start)
    query = select(_hour_of(session, moment)).where(MessageLog.tenant_id == tenant_id, moment.is_not(None)).distinct()
    return {int(h) for (h,) in session.execute(query)}


def _stored_hours(session: Session, tenant_id: int, days: set[int]) -> set[int]:
    """Hours with stored cells on the given days (epoch days): a full pass rebuilds them too, so a cell whose
    messages all moved away is emptied. Days without any stored log keep their cells: stats outlive the
    logs that retention and archive prune delete."""
    starts = session.scalars(select(StatsBucket.bucket_start).where(
        StatsBucket.tenant_id == tenant_id, StatsBucket.granularity == "hour").distinct())
    hours = {int(start.timestamp()) // HOUR_S for start in starts}
    return {hour for hour in hours if hour // 24 in days}


def _take_dirty(session: Session, tenant_id: int) -> set[int]:
    """Consume the tenant's dirty marks that are visible (committed) now."""
    taken = session.execute(delete(StatsDirty).where(StatsDirty.tenant_id == tenant_id).returning(StatsDirty.hour))
    return {int(h) for (h,) in taken}


def _lock_mark(session: Session, tenant_id: int) -> tuple[StatsWatermark, bool]:
    """The tenant's mark row, locked; True when it did not exist (the pass must rebuild everything)."""
    created = session.execute(insert_ignoring(session, StatsWatermark, ["tenant_id"])
                              .values(tenant_id=tenant_id, position=None)
                              .returning(StatsWatermark.tenant_id)).first()
    mark = session.scalars(select(StatsWatermark).where(StatsWatermark.tenant_id == tenant_id)
                           .with_for_update().execution_options(populate_existing=True)).one()
    return mark, created is not None


def _ms(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _day_rows(session: Session, tenant_id: int, day: datetime) -> list[tuple[int, MessageRow]]:
    """(hour of day, row) for the tenant's logs of ``day``; two queries so the log_end index serves most."""
    day_hour = int(day.timestamp()) // HOUR_S
    # Float in the database: PostgreSQL's extract() is numeric, and Decimal rows cost more than the query.
    duration = func.cast((_epoch_s(session, MessageLog.log_end) - _epoch_s(session, MessageLog.log_start)) * 1000.0,
                         Float)
    found: list[tuple[int, MessageRow]] = []
    for moment, extra in ((MessageLog.log_end, None), (MessageLog.log_start, MessageLog.log_end.is_(None))):
        query = select(MessageLog.package_id, MessageLog.iflow_id, MessageLog.status, duration,
                       _hour_of(session, moment)).where(
            MessageLog.tenant_id == tenant_id, moment >= day, moment < day + timedelta(days=1))
        if extra is not None:
            query = query.where(extra)
        found += [(int(hour) - day_hour, MessageRow(pkg, flow, status, _ms(ms)))
                  for pkg, flow, status, ms, hour in session.execute(query)]
    return found


def _replace_bucket(session: Session, tenant_id: int, granularity: str, start: datetime,
                    cells: dict[CellKey, Cell]) -> None:
    """Make the bucket's stored cells equal ``cells``, writing only the cells that differ (a day bucket
    has hundreds of cells, and one moved message changes a handful of them)."""
    table: Table = StatsBucket.__table__  # type: ignore[assignment]
    stored = {(pkg, flow, status): (row_id, values) for row_id, pkg, flow, status, *values in session.execute(
        select(table.c.id, table.c.package_id, table.c.iflow_id, table.c.status, table.c.message_count,
               table.c.failed_count, table.c.failure_rate, table.c.p50_ms, table.c.p95_ms).where(
            table.c.tenant_id == tenant_id, table.c.granularity == granularity, table.c.bucket_start == start))}
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for key, cell in cells.items():
        values = [cell.count, cell.failed, cell.failure_rate, cell.p(0.5), cell.p(0.95)]
        found = stored.pop(key, None)
        if found is not None and list(found[1]) == values:
            continue
        row = dict(zip(_VALUE_COLUMNS, values, strict=True), updated_at=now)
        if found is None:
            pkg, flow, status = key
            inserts.append({**row, "tenant_id": tenant_id, "granularity": granularity, "bucket_start": start,
                            "package_id": pkg, "iflow_id": flow, "status": status})
        else:
            updates.append({**row, "row_id": found[0]})
    if stored:
        session.execute(delete(table).where(table.c.id.in_([row_id for row_id, _ in stored.values()])))
    if updates:
        session.execute(update(table).where(table.c.id == bindparam("row_id")).values(
            {c: bindparam(c) for c in (*_VALUE_COLUMNS, "updated_at")}), updates)
    if inserts:
        session.execute(insert(table), inserts)


_VALUE_COLUMNS = ("message_count", "failed_count", "failure_rate", "p50_ms", "p95_ms")


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
    """Rebuild the tenant's dirty hours and their days (everything when ``full`` or on the first pass),
    in the caller's transaction; the marks are consumed only if that transaction commits."""
    mark, first = _lock_mark(session, tenant_id)
    dirty = _take_dirty(session, tenant_id)
    if full or first:
        dirty = _all_hours(session, tenant_id)
        dirty |= _stored_hours(session, tenant_id, {hour // 24 for hour in dirty})
    days: dict[datetime, list[datetime]] = defaultdict(list)
    for hour in sorted(dirty):
        start = datetime.fromtimestamp(hour * HOUR_S, UTC)
        days[start.replace(hour=0)].append(start)
    scanned = sum(_rebuild_day(session, tenant_id, day, day_hours) for day, day_hours in days.items())
    mark.position = utcnow()
    return TenantUpdate(tenant_id, len(dirty), len(days), scanned)
