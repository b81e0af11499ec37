"""Read live workers from their Redis heartbeats and the progress of the jobs they run."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from core.queues.keys import WORKERS_INDEX, worker_key

__all__ = ["job_progress", "live_workers", "progress_key"]


def progress_key(job_id: str) -> str:
    """Where a long job reports ``{done, total, message, at}`` (written by ``ctx.progress``)."""
    return f"integramon:progress:{job_id}"


def _epoch(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return None


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
    beats = await redis.mget([worker_key(i) for i in ids])
    now = time.time()
    workers = []
    for wid, raw in zip(ids, beats, strict=True):
        beat = _decode(raw)
        if beat is None:
            continue  # heartbeat expired: the controller removes the index entry
        running = [str(j) for j in beat.get("running") or []]
        last_seen = _epoch(beat.get("last_seen"))
        workers.append({
            "worker_id": str(beat.get("worker_id") or wid),
            "group": beat.get("group"),
            "queues": list(beat.get("queues") or []),
            "concurrency": int(beat.get("concurrency") or 0),
            "slots_used": len(running),
            "running": running,
            "host": beat.get("host"),
            "pid": beat.get("pid"),
            "version": beat.get("version"),
            "started_at": beat.get("started_at"),
            "last_seen": beat.get("last_seen"),
            "heartbeat_age_s": round(now - last_seen, 3) if last_seen is not None else None,
        })
    return workers


async def job_progress(redis: Redis, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Progress reports of these jobs (only those that reported any)."""
    if not job_ids:
        return {}
    raws = await redis.mget([progress_key(j) for j in job_ids])
    return {j: p for j, raw in zip(job_ids, raws, strict=True) if (p := _decode(raw)) is not None}
