"""Metrics responses: sampled queue depth, live depth, throughput, durations and platform series."""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = ["ApiPoint", "DurationsView", "HostPoint", "LiveDepths", "LiveQueue", "PlatformSeries", "QueueDurations",
           "QueuePoint", "QueueSeries", "StorageRow", "ThroughputPoint", "ThroughputSeries"]


class QueuePoint(msgspec.Struct):
    """One sample of a queue (taken by the controller)."""

    at: datetime
    ready: int
    deferred: int
    running: int
    oldest_ready_age_s: float | None


class QueueSeries(msgspec.Struct):
    """Samples per queue name since ``since``, oldest first (thinned to a bounded number of points)."""

    since: datetime
    series: dict[str, list[QueuePoint]]


class LiveQueue(msgspec.Struct):
    """One catalogued queue's depth computed from Redis now."""

    queue: str
    group: str
    deferred: int
    running: int
    ready: int
    oldest_ready_age_s: float | None


class LiveDepths(msgspec.Struct):
    """Every catalogued queue, in catalog order."""

    queues: list[LiveQueue]


class ThroughputPoint(msgspec.Struct):
    at: datetime
    completed: int
    succeeded: int
    failed: int
    per_s: float
    failure_rate: float


class ThroughputSeries(msgspec.Struct):
    """Finished runs per ``bucket_s`` bucket (failed counts failed and dead runs)."""

    since: datetime
    bucket_s: int
    points: list[ThroughputPoint]


class QueueDurations(msgspec.Struct):
    queue: str
    finished: int
    failure_rate: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class DurationsView(msgspec.Struct):
    since: datetime
    queues: list[QueueDurations]


class HostPoint(msgspec.Struct):
    at: datetime
    cpu_percent: float
    memory_percent: float
    disk_percent: float
    load_1m: float


class ApiPoint(msgspec.Struct):
    at: datetime
    requests: int
    errors: int
    avg_ms: float | None


class StorageRow(msgspec.Struct):
    """The newest size of one table or object store."""

    object: str
    kind: str
    rows: int | None
    size_bytes: int | None
    at: datetime


class PlatformSeries(msgspec.Struct):
    """Host metrics per host, admin API requests per busiest route, and the newest storage sizes."""

    since: datetime
    hosts: dict[str, list[HostPoint]]
    api: dict[str, list[ApiPoint]]
    storage: list[StorageRow]
