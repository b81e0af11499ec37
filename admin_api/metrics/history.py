"""Time series for the charts: sampled queue depth/age (``queue_sample``) and ledger throughput,
failure rate and duration percentiles per queue over a window."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, literal, select
from sqlalchemy.orm import Session

from admin_api.metrics.schemas import QueueDurations, QueuePoint, ThroughputPoint
from core.db.dialect import is_postgres
from core.db.models.base import utcnow
from core.db.models.controller import QueueSample
from core.db.models.ledger import WorkerJobRun
from core.ledger.states import RunStatus

__all__ = ["duration_percentiles", "queue_series", "throughput"]

R = WorkerJobRun
FAILED = (RunStatus.FAILED.value, RunStatus.DEAD.value)
FINISHED = (RunStatus.SUCCEEDED.value, RunStatus.FAILED.value, RunStatus.DEAD.value)
MAX_POINTS = 2000


def queue_series(session: Session, since: datetime, queue: str | None) -> dict[str, list[QueuePoint]]:
    """Samples per queue since ``since``, oldest first (thinned to at most MAX_POINTS per queue)."""
    stmt = select(QueueSample).where(QueueSample.sampled_at >= since).order_by(QueueSample.sampled_at)
    if queue:
        stmt = stmt.where(QueueSample.queue == queue)
    series: dict[str, list[QueuePoint]] = {}
    for s in session.scalars(stmt.limit(MAX_POINTS * 20)):
        series.setdefault(s.queue, []).append(QueuePoint(
            at=s.sampled_at, ready=s.ready, deferred=s.deferred, running=s.running,
            oldest_ready_age_s=s.oldest_ready_age_s))
    for name, points in series.items():
        step = max(1, math.ceil(len(points) / MAX_POINTS))
        series[name] = points[::step]
    return series


def _bucket_expr(session: Session, bucket_s: int) -> Any:
    epoch = (func.extract("epoch", R.finished_at) if is_postgres(session)
             else cast(func.strftime("%s", R.finished_at), Integer))
    return cast(func.floor(epoch / bucket_s), Integer) * literal(bucket_s)


def throughput(session: Session, since: datetime, bucket_s: int, queue: str | None) -> list[ThroughputPoint]:
    """Finished runs per time bucket: completed, failed (failed + dead) and the failure rate."""
    bucket = _bucket_expr(session, bucket_s).label("bucket")
    stmt = (select(bucket, R.status, func.count().label("n"))
            .where(R.finished_at >= since, R.status.in_(FINISHED)).group_by(bucket, R.status).order_by(bucket))
    if queue:
        stmt = stmt.where(R.queue == queue)
    points: dict[int, list[int]] = {}  # bucket start -> [succeeded, failed]
    for row in session.execute(stmt):
        point = points.setdefault(int(row.bucket), [0, 0])
        point[1 if row.status in FAILED else 0] += int(row.n)
    out = []
    for start, (succeeded, failed) in sorted(points.items()):
        total = succeeded + failed
        out.append(ThroughputPoint(at=datetime.fromtimestamp(start, tz=since.tzinfo), completed=total,
                                   succeeded=succeeded, failed=failed, per_s=round(total / bucket_s, 3),
                                   failure_rate=round(failed / total, 4) if total else 0.0))
    return out


def _percentile(values: list[int], q: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))
    return float(values[index])


def duration_percentiles(session: Session, since: datetime) -> list[QueueDurations]:
    """p50 / p95 / p99 run duration, count and failure rate per queue for runs finished since ``since``."""
    rows = session.execute(
        select(R.queue, R.status, R.duration_ms).where(R.finished_at >= since, R.status.in_(FINISHED))
        .order_by(R.finished_at.desc()).limit(200_000))
    durations: dict[str, list[int]] = {}
    counts: dict[str, list[int]] = {}  # queue -> [finished, failed]
    for row in rows:
        count = counts.setdefault(row.queue, [0, 0])
        count[0] += 1
        count[1] += row.status in FAILED
        if row.duration_ms is not None:
            durations.setdefault(row.queue, []).append(int(row.duration_ms))
    result = []
    for name, (finished, failed) in sorted(counts.items()):
        values = sorted(durations.get(name, []))
        result.append(QueueDurations(queue=name, finished=finished, failure_rate=round(failed / finished, 4),
                                     p50_ms=_percentile(values, 0.5), p95_ms=_percentile(values, 0.95),
                                     p99_ms=_percentile(values, 0.99)))
    return result


def window_start(minutes: int) -> datetime:
    return utcnow() - timedelta(minutes=minutes)
