"""Writing the in-process CPI call counters to ``cpi_call_stat``, and reading them back as pressure.

The flusher runs beside a process's jobs: every few seconds it drains the counters and inserts one row
per tenant and endpoint family. A database outage only delays the rows (the drained counters are put
back, so nothing is lost), and it is logged once when it starts and once when it ends.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.cpi.metrics import LATENCY_BOUNDS_MS, CpiCallMetrics, FamilyStats, percentile
from core.db.models.base import utcnow
from core.db.models.cpi_calls import CpiCallStat

__all__ = ["CpiMetricsFlusher", "CpiPressure", "cpi_pressure", "write_stats"]

log = logging.getLogger("core.cpi.metrics")


def write_stats(sessions: sessionmaker[Session], drained: dict[tuple[int, str], FamilyStats],
                at: datetime | None = None) -> int:
    """Insert one row per (tenant, family); returns the number of rows."""
    at = at or utcnow()
    rows = [
        {"sampled_at": at, "tenant_id": tenant_id, "family": family, "requests": s.requests,
         "throttled": s.throttled, "server_errors": s.server_errors, "timeouts": s.timeouts, "retries": s.retries,
         "retry_wait_ms": s.retry_wait_ms, "latency_sum_ms": s.latency_sum_ms, "latency_histogram": s.histogram}
        for (tenant_id, family), s in drained.items()
    ]
    if rows:
        with sessions.begin() as session:
            session.execute(insert(CpiCallStat), rows)
    return len(rows)


class CpiMetricsFlusher:
    """Drains a process's :class:`CpiCallMetrics` into the database every ``interval_s`` seconds."""

    def __init__(self, metrics: CpiCallMetrics, sessions: sessionmaker[Session], interval_s: float = 5.0) -> None:
        self._metrics = metrics
        self._sessions = sessions
        self._interval_s = interval_s
        self._failing = False

    async def run(self) -> None:
        """Flush forever; never raises (a failed flush keeps its counters for the next one)."""
        while True:
            await asyncio.sleep(self._interval_s)
            await self.flush()

    async def flush(self) -> int:
        drained = self._metrics.drain()
        if not drained:
            return 0
        try:
            written = await asyncio.to_thread(write_stats, self._sessions, drained)
        except (SQLAlchemyError, OSError) as exc:
            self._metrics.restore(drained)
            if not self._failing:
                log.warning("CPI call metrics not written (database unavailable: %s); kept for the next flush",
                            type(exc).__name__)
            self._failing = True
            return 0
        if self._failing:
            log.info("CPI call metrics written again")
            self._failing = False
        return written


@dataclass(frozen=True, slots=True)
class CpiPressure:
    """A tenant endpoint family over a window: how much was asked and how CPI answered."""

    tenant_id: int
    family: str
    requests: int
    requests_per_s: float
    throttled: int
    server_errors: int
    timeouts: int
    retries: int
    retry_wait_ms: float
    latency_avg_ms: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None

    @property
    def throttle_ratio(self) -> float:
        return self.throttled / self.requests if self.requests else 0.0


def cpi_pressure(session: Session, since: datetime, until: datetime | None = None,
                 tenant_ids: list[int] | None = None) -> list[CpiPressure]:
    """Per tenant and family, the calls of ``since < sampled_at <= until`` added up."""
    until = until or utcnow()
    query = select(CpiCallStat.tenant_id, CpiCallStat.family, CpiCallStat.requests, CpiCallStat.throttled,
                   CpiCallStat.server_errors, CpiCallStat.timeouts, CpiCallStat.retries, CpiCallStat.retry_wait_ms,
                   CpiCallStat.latency_sum_ms, CpiCallStat.latency_histogram).where(
        CpiCallStat.sampled_at > since, CpiCallStat.sampled_at <= until)
    if tenant_ids is not None:
        query = query.where(CpiCallStat.tenant_id.in_(tenant_ids))
    totals: dict[tuple[int, str], FamilyStats] = {}
    for tid, family, req, thr, s5xx, tmo, retries, wait, lat_sum, hist in session.execute(query):
        row = FamilyStats(req, thr, s5xx, tmo, retries, wait, lat_sum, _histogram(hist))
        totals.setdefault((tid, family), FamilyStats()).merge(row)
    seconds = max(1.0, (until - since).total_seconds())
    return [_pressure(tid, family, stats, seconds) for (tid, family), stats in sorted(totals.items())]


def _histogram(raw: object) -> list[int]:
    size = len(LATENCY_BOUNDS_MS) + 1
    if isinstance(raw, list) and len(raw) == size and all(isinstance(v, int) for v in raw):
        return list(raw)
    return [0] * size


def _pressure(tenant_id: int, family: str, s: FamilyStats, seconds: float) -> CpiPressure:
    return CpiPressure(
        tenant_id=tenant_id, family=family, requests=s.requests, requests_per_s=s.requests / seconds,
        throttled=s.throttled, server_errors=s.server_errors, timeouts=s.timeouts, retries=s.retries,
        retry_wait_ms=s.retry_wait_ms, latency_avg_ms=s.latency_sum_ms / s.requests if s.requests else None,
        latency_p50_ms=percentile(s.histogram, 0.5), latency_p95_ms=percentile(s.histogram, 0.95),
        latency_p99_ms=percentile(s.histogram, 0.99))


def latest_sample_time(session: Session) -> datetime | None:
    """When any process last wrote CPI call metrics (None: never)."""
    return session.execute(select(func.max(CpiCallStat.sampled_at))).scalar_one_or_none()
