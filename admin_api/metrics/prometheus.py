"""Prometheus exposition with ``prometheus_client``.

Two kinds of series. State gauges (queue depth, workers, leader, and the bottleneck view: verdict,
DesiredWorkers, CPI and store pressure) are read from Redis and the database at scrape time by a
collector made per scrape, so every API replica and worker process answers the same. Request
counters of this API process (requests and latency by route) are ``prometheus_client`` metrics; with
``integramon api --workers N`` they run in prometheus_client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``),
so a scrape answered by any worker process adds up all of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from core.pressure.report import BottleneckReport

__all__ = ["CONTENT_TYPE", "MULTIPROC_ENV", "ApiRequestMetrics", "StateSnapshot", "render_metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(slots=True)
class ApiRequestMetrics:
    """Request count and latency of this API process, by method, route template and status class."""

    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))
    requests: Counter = field(init=False)
    latency: Histogram = field(init=False)

    def __post_init__(self) -> None:
        self.requests = Counter("integramon_api_requests", "Admin API requests.", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("integramon_api_request_seconds", "Admin API request latency.", ["method", "route"],
                                 registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, f"{status // 100}xx").inc()
        self.latency.labels(method, route).observe(seconds)


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    depths: list[dict[str, Any]]
    workers: list[dict[str, Any]]
    leader: bool
    report: BottleneckReport | None = None


def _gauge(name: str, help_text: str, labels: list[str], samples: Iterable[tuple[list[str], float]]) -> Metric:
    family = GaugeMetricFamily(name, help_text, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family


class _StateCollector(Collector):
    """The state gauges of one scrape."""

    def __init__(self, snapshot: StateSnapshot) -> None:
        self._s = snapshot

    def collect(self) -> Iterator[Metric]:
        depths = self._s.depths
        q = ["queue", "group"]
        yield _gauge("integramon_queue_ready_jobs", "Jobs due and waiting for a worker.", q,
                     (([r["queue"], r["group"]], r["ready"]) for r in depths))
        yield _gauge("integramon_queue_deferred_jobs", "Jobs scheduled for later (retries, deferred).", q,
                     (([r["queue"], r["group"]], r["deferred"]) for r in depths))
        yield _gauge("integramon_queue_running_jobs", "Jobs a worker is running now.", q,
                     (([r["queue"], r["group"]], r["running"]) for r in depths))
        yield _gauge("integramon_queue_oldest_ready_age_seconds", "Age of the oldest ready job (0 when none).", q,
                     (([r["queue"], r["group"]], r["oldest_ready_age_s"] or 0.0) for r in depths))
        groups: dict[str, list[int]] = {}
        for w in self._s.workers:
            slot = groups.setdefault(str(w["group"]), [0, 0, 0])
            slot[0] += 1
            slot[1] += w["slots_used"]
            slot[2] += w["concurrency"]
        yield _gauge("integramon_workers_live", "Worker processes with a live heartbeat.", ["group"],
                     (([g], v[0]) for g, v in sorted(groups.items())))
        yield _gauge("integramon_worker_slots_used", "Job slots in use across live workers.", ["group"],
                     (([g], v[1]) for g, v in sorted(groups.items())))
        yield _gauge("integramon_worker_slots_total", "Job slots across live workers.", ["group"],
                     (([g], v[2]) for g, v in sorted(groups.items())))
        yield _gauge("integramon_controller_leader", "1 when a controller holds the leader lease.", [],
                     [([], 1.0 if self._s.leader else 0.0)])
        if self._s.report is not None:
            yield from _bottleneck_gauges(self._s.report)


def _bottleneck_gauges(report: BottleneckReport) -> Iterator[Metric]:
    yield _gauge("integramon_group_verdict", "1 for the group's current bottleneck verdict.", ["group", "verdict"],
                 (([g.facts.group, g.verdict.code.value], 1.0) for g in report.groups))
    yield _gauge("integramon_group_desired_workers", "Workers the group should run (capped under backpressure).",
                 ["group"], (([g.facts.group], float(g.desired_workers)) for g in report.groups))
    tf = ["tenant", "family"]

    def tenant(tid: int) -> str:
        return report.tenant_names.get(tid, str(tid))

    yield _gauge("integramon_cpi_requests_per_second", "CPI requests per second over the last 5 minutes.", tf,
                 (([tenant(p.tenant_id), p.family], p.requests_per_s) for p in report.cpi))
    yield _gauge("integramon_cpi_throttle_ratio", "Share of CPI requests answered 429 (last 5 minutes).", tf,
                 (([tenant(p.tenant_id), p.family], p.throttle_ratio) for p in report.cpi))
    yield _gauge("integramon_cpi_latency_p95_seconds", "CPI latency, 95th percentile (last 5 minutes).", tf,
                 (([tenant(p.tenant_id), p.family], (p.latency_p95_ms or 0.0) / 1000) for p in report.cpi))
    db, redis = report.stores.database, report.stores.redis
    if db is not None:
        yield _gauge("integramon_db_lock_waits", "Database sessions waiting on a lock.", [],
                     [([], float(db.lock_waits or 0))])
        yield _gauge("integramon_db_connections", "Database connections in use and allowed.", ["kind"],
                     [(["active"], float(db.active_connections or 0)), (["max"], float(db.max_connections or 0))])
        yield _gauge("integramon_db_commits_per_second", "Database commits per second.", [],
                     [([], db.commits_per_s or 0.0)])
        yield _gauge("integramon_db_wal_bytes_per_second", "PostgreSQL WAL bytes per second.", [],
                     [([], db.wal_bytes_per_s or 0.0)])
    if redis is not None:
        yield _gauge("integramon_redis_cpu_percent", "Redis CPU, percent of its one core.", [],
                     [([], redis.cpu_percent or 0.0)])
        yield _gauge("integramon_redis_ops_per_second", "Redis operations per second.", [],
                     [([], float(redis.ops_per_s))])
        yield _gauge("integramon_redis_used_memory_bytes", "Redis memory in use.", [], [([], float(redis.used_memory))])


def render_metrics(snapshot: StateSnapshot, requests: ApiRequestMetrics | None = None) -> str:
    """The whole exposition: state gauges plus this API's request metrics (all processes' when multiprocess)."""
    state = CollectorRegistry(auto_describe=False)
    state.register(_StateCollector(snapshot))
    text = generate_latest(state)
    if os.environ.get(MULTIPROC_ENV):
        merged = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        text += generate_latest(merged)
    elif requests is not None:
        text += generate_latest(requests.registry)
    return text.decode()
