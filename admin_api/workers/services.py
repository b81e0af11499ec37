"""Read live workers from their Redis heartbeats and the progress of the jobs they run."""

from __future__ import annotations

import json
import time
from typing import Any

from redis.asyncio import Redis

from core.queues.keys import WORKERS_INDEX, progress_key, worker_key
from core.records.heartbeat import decode_heartbeat

__all__ = ["job_progress", "live_workers", "progress_key"]


def _decode(raw: bytes | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


async def live_workers(redis: Redis) -> list[dict[str, Any]]:
    """Every worker with a live heartbeat: group, queues, slots used / total, heartbeat age, running jobs."""
    ids = sorted(m.decode() if isinstance(m, bytes) else str(m) for m in await redis.smembers(WORKERS_INDEX))
    if not ids:
        return []
    raws = await redis.mget([worker_key(i) for i in ids])
    now = time.time()
    workers = []
    for wid, raw in zip(ids, raws, strict=True):
        beat = decode_heartbeat(raw, worker_id=wid)
        if beat is None:
            continue  # heartbeat expired (the controller removes the index entry) or unreadable
        age = beat.age_s(now)
        workers.append({
            "worker_id": beat.worker_id,
            "group": beat.group,
            "queues": list(beat.queues),
            "concurrency": beat.concurrency,
            "slots_used": beat.slots_used,
            "running": list(beat.running),
            "host": beat.host,
            "pid": beat.pid,
            "version": beat.version,
            "started_at": beat.started_at,
            "last_seen": beat.last_seen,
            "heartbeat_age_s": round(age, 3) if age is not None else None,
        })
    return workers


async def job_progress(redis: Redis, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Progress reports of these jobs (only those that reported any)."""
    if not job_ids:
        return {}
    raws = await redis.mget([progress_key(j) for j in job_ids])
    return {j: p for j, raw in zip(job_ids, raws, strict=True) if (p := _decode(raw)) is not None}
