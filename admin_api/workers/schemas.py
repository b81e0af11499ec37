"""Workers overview response: live workers (from their heartbeats) with their jobs, and recently gone ones."""

from __future__ import annotations

from datetime import datetime

import msgspec

from admin_api.jobs.schemas import JobProgress

__all__ = ["GoneWorker", "WorkerJob", "WorkerView", "WorkersOverview"]


class WorkerJob(msgspec.Struct):
    """A job holding one of the worker's slots (ledger fields absent while its row is not written yet)."""

    job_id: str
    run_id: int | None = None
    function: str | None = None
    started_at: datetime | None = None
    progress: JobProgress | None = None


class WorkerView(msgspec.Struct):
    """One live worker process; ``started_at`` / ``last_seen`` are Unix seconds from its heartbeat."""

    worker_id: str
    group: str | None
    queues: list[str]
    concurrency: int
    slots_used: int
    running: list[str]
    host: str | None
    pid: int | None
    version: str | None
    started_at: float | None
    last_seen: float | None
    heartbeat_age_s: float | None
    jobs: list[WorkerJob] = msgspec.field(default_factory=list)


class GoneWorker(msgspec.Struct):
    worker_id: str
    group: str
    host: str | None
    pid: int | None
    last_seen: datetime
    gone_at: datetime | None


class WorkersOverview(msgspec.Struct):
    workers: list[WorkerView]
    recently_gone: list[GoneWorker]
