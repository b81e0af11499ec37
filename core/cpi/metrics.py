"""What CPI calls cost: per tenant and endpoint family in the process, and per job.

A queue that grows because a tenant throttles or answers slowly looks, from the queue alone, like a
queue that needs more workers. These counters make the difference visible. They are cheap: every
request updates a few integers in memory (no I/O); a flusher writes one row per tenant and family
every few seconds (:mod:`core.cpi.metrics_store`), and a job's own calls are summed in a context
variable so its result can say ``cpi: {requests, retries, throttled_ms}``.

Latency percentiles come from a fixed histogram (bucket upper bounds in :data:`LATENCY_BOUNDS_MS`),
so rows from many processes and minutes merge by adding counts.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LATENCY_BOUNDS_MS",
    "CallTally",
    "CpiCallMetrics",
    "FamilyStats",
    "TenantCallObserver",
    "current_tally",
    "job_tally",
    "percentile",
]

# Upper bounds (ms) of the latency histogram buckets; one more bucket counts everything slower.
LATENCY_BOUNDS_MS: tuple[int, ...] = (5, 10, 20, 50, 100, 200, 350, 500, 750, 1000, 2000, 5000, 10000, 30000)


@dataclass(slots=True)
class CallTally:
    """One job's CPI calls: requests sent, retries, and time spent waiting on 429 / Retry-After."""

    requests: int = 0
    retries: int = 0
    throttled_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "retries": self.retries, "throttled_ms": round(self.throttled_ms)}


_JOB_TALLY: ContextVar[CallTally | None] = ContextVar("integramon_cpi_job_tally", default=None)


@contextmanager
def job_tally() -> Iterator[CallTally]:
    """Count the CPI calls made inside the block (and in tasks it starts) into a fresh tally."""
    tally = CallTally()
    token = _JOB_TALLY.set(tally)
    try:
        yield tally
    finally:
        _JOB_TALLY.reset(token)


def current_tally() -> CallTally | None:
    return _JOB_TALLY.get()


def _empty_histogram() -> list[int]:
    return [0] * (len(LATENCY_BOUNDS_MS) + 1)


@dataclass(slots=True)
class FamilyStats:
    """Counters of one tenant's endpoint family since the last flush."""

    requests: int = 0
    throttled: int = 0  # HTTP 429
    server_errors: int = 0  # HTTP 5xx
    timeouts: int = 0  # no answer in time, or the connection failed
    retries: int = 0
    retry_wait_ms: float = 0.0  # time waited because of 429 / Retry-After
    latency_sum_ms: float = 0.0
    histogram: list[int] = field(default_factory=_empty_histogram)

    def add_latency(self, latency_ms: float) -> None:
        self.latency_sum_ms += latency_ms
        self.histogram[bisect.bisect_left(LATENCY_BOUNDS_MS, latency_ms)] += 1

    def merge(self, other: FamilyStats) -> None:
        self.requests += other.requests
        self.throttled += other.throttled
        self.server_errors += other.server_errors
        self.timeouts += other.timeouts
        self.retries += other.retries
        self.retry_wait_ms += other.retry_wait_ms
        self.latency_sum_ms += other.latency_sum_ms
        self.histogram = [a + b for a, b in zip(self.histogram, other.histogram, strict=True)]


StatsKey = tuple[int, str]  # (tenant id, endpoint family)


class CpiCallMetrics:
    """Every tenant's counters in this process, drained by the flusher."""

    def __init__(self) -> None:
        self._stats: dict[StatsKey, FamilyStats] = {}

    def stats(self, tenant_id: int, family: str) -> FamilyStats:
        key = (tenant_id, family)
        found = self._stats.get(key)
        if found is None:
            found = self._stats[key] = FamilyStats()
        return found

    def drain(self) -> dict[StatsKey, FamilyStats]:
        """Everything counted since the last drain; the counters start again from zero."""
        drained, self._stats = self._stats, {}
        return drained

    def restore(self, drained: dict[StatsKey, FamilyStats]) -> None:
        """Put back counters a failed flush could not write, so an outage loses nothing."""
        for key, stats in drained.items():
            self.stats(*key).merge(stats)


class TenantCallObserver:
    """What a tenant's transport reports each request to: the process counters and the job's tally."""

    def __init__(self, metrics: CpiCallMetrics, tenant_id: int) -> None:
        self._metrics = metrics
        self._tenant_id = tenant_id

    def response(self, family: str, status: int, latency_ms: float) -> None:
        stats = self._metrics.stats(self._tenant_id, family)
        stats.requests += 1
        stats.add_latency(latency_ms)
        if status == 429:
            stats.throttled += 1
        elif status >= 500:
            stats.server_errors += 1
        tally = _JOB_TALLY.get()
        if tally is not None:
            tally.requests += 1

    def no_answer(self, family: str, latency_ms: float) -> None:
        stats = self._metrics.stats(self._tenant_id, family)
        stats.requests += 1
        stats.timeouts += 1
        stats.add_latency(latency_ms)
        tally = _JOB_TALLY.get()
        if tally is not None:
            tally.requests += 1

    def retry(self, family: str, wait_ms: float, throttled: bool) -> None:
        stats = self._metrics.stats(self._tenant_id, family)
        stats.retries += 1
        if throttled:
            stats.retry_wait_ms += wait_ms
        tally = _JOB_TALLY.get()
        if tally is not None:
            tally.retries += 1
            if throttled:
                tally.throttled_ms += wait_ms


def percentile(histogram: Sequence[int], fraction: float) -> float | None:
    """The upper bound (ms) of the bucket holding the ``fraction`` quantile; None for no requests.

    The last bucket has no upper bound; it reports twice the largest bound ("slower than that").
    """
    total = sum(histogram)
    if total == 0:
        return None
    rank = fraction * total
    seen = 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= rank and count:
            return float(LATENCY_BOUNDS_MS[index]) if index < len(LATENCY_BOUNDS_MS) else LATENCY_BOUNDS_MS[-1] * 2.0
    return LATENCY_BOUNDS_MS[-1] * 2.0
