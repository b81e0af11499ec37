"""Host metrics: CPU, memory, disk and load of the host a periodic worker runs on (psutil).

A job runs on whichever worker takes it, so ``host_metrics_dispatch_task`` enqueues one collection
per live worker host (from the heartbeats) and each sample records the host that really took it.
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import Any

import psutil

from core.db.models.platform import HostMetricSample
from core.queues.catalog import HOST_METRICS_COLLECT_TASK, HOST_METRICS_DISPATCH_TASK
from core.queues.keys import WORKERS_INDEX, worker_key
from core.records.heartbeat import decode_heartbeat
from functions.registry import implements
from functions.runner.context import JobContext

__all__ = ["host_metrics_collect_task", "host_metrics_dispatch_task", "sample_host"]


def _disk_path(data_dir: Path) -> str:
    path = data_dir.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return str(path)


def sample_host(data_dir: Path) -> dict[str, Any]:
    """One sample of this host (blocks ~0.2 s to measure CPU)."""
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(_disk_path(data_dir))
    load = os.getloadavg()
    return {"host": socket.gethostname(), "cpu_percent": psutil.cpu_percent(interval=0.2),
            "memory_percent": memory.percent, "memory_used_bytes": int(memory.used),
            "disk_percent": disk.percent, "disk_used_bytes": int(disk.used),
            "load_1m": load[0], "load_5m": load[1], "load_15m": load[2]}


@implements(HOST_METRICS_COLLECT_TASK)
async def host_metrics_collect_task(ctx: JobContext, host: str | None = None) -> dict[str, Any]:
    """Store one sample; ``host`` is the host the dispatcher meant (reported when another one ran it)."""
    sample = await asyncio.to_thread(sample_host, ctx.settings.data_dir)

    def store() -> None:
        with ctx.resources.sessions.begin() as session:
            session.add(HostMetricSample(**sample))

    await asyncio.to_thread(store)
    return {"host": sample["host"], "requested_host": host, "cpu_percent": sample["cpu_percent"]}


async def _worker_hosts(ctx: JobContext) -> list[str]:
    redis = ctx.resources.redis
    ids = [m.decode() if isinstance(m, bytes) else str(m) for m in await redis.smembers(WORKERS_INDEX)]
    raws = await redis.mget([worker_key(i) for i in ids]) if ids else []
    return sorted({beat.host for raw in raws if (beat := decode_heartbeat(raw)) is not None and beat.host})


@implements(HOST_METRICS_DISPATCH_TASK)
async def host_metrics_dispatch_task(ctx: JobContext) -> dict[str, Any]:
    """Enqueue one collection per live worker host (the controller enqueues this when host metrics are due)."""
    hosts = await _worker_hosts(ctx) or [socket.gethostname()]
    spec = HOST_METRICS_COLLECT_TASK
    enqueued = 0
    for host in hosts:
        job = await ctx.resources.enqueuer.enqueue(spec, {"host": host}, dedup_key=f"host_metrics:{host}")
        enqueued += job is not None
    return {"enqueued": enqueued, "hosts": hosts}
