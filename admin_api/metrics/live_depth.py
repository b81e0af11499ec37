"""Per-queue depth computed from Redis now: ready, deferred, running and the oldest ready job's age.

An arq queue's sorted set holds ready, deferred AND running jobs (a job leaves it when it ends), so:
due = score <= now; running = members that a live worker runs (heartbeat ``running`` lists) or that
hold an ``arq:in-progress`` lease; ready = due - running.
"""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis

from admin_api.workers.services import live_workers
from core.queues.catalog import QUEUES
from core.queues.keys import ARQ_IN_PROGRESS_PREFIX

__all__ = ["OLDEST_SCAN", "queue_depths"]

OLDEST_SCAN = 64  # the oldest due jobs checked for a lease to find the oldest job nobody runs


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def queue_depths(redis: Redis) -> list[dict[str, Any]]:
    """One row per catalogued queue, in catalog order."""
    now_ms = int(time.time() * 1000)
    running_ids = sorted({j for w in await live_workers(redis) for j in w["running"]})
    pipe = redis.pipeline(transaction=False)
    for spec in QUEUES.values():
        pipe.zcount(spec.redis_key, "-inf", now_ms)
        pipe.zcount(spec.redis_key, f"({now_ms}", "+inf")
        pipe.zrangebyscore(spec.redis_key, "-inf", now_ms, start=0, num=OLDEST_SCAN, withscores=True)
        if running_ids:
            pipe.zmscore(spec.redis_key, running_ids)
    raw = iter(await pipe.execute())
    rows = []
    for spec in QUEUES.values():
        due, deferred, oldest = int(next(raw)), int(next(raw)), next(raw)
        scores = next(raw) if running_ids else []
        running = {j for j, s in zip(running_ids, scores, strict=True) if s is not None and s <= now_ms}
        rows.append({"queue": spec.name, "group": spec.group, "due": due, "deferred": deferred,
                     "running_ids": running, "oldest": [(_text(m), float(s)) for m, s in oldest]})
    await _apply_leases(redis, rows, now_ms)
    return rows


async def _apply_leases(redis: Redis, rows: list[dict[str, Any]], now_ms: int) -> None:
    """Finish each row: leases among the oldest due jobs count as running; the first free one is the oldest."""
    pipe = redis.pipeline(transaction=False)
    for row in rows:
        for member, _ in row["oldest"]:
            pipe.exists(ARQ_IN_PROGRESS_PREFIX + member)
    flags = iter(await pipe.execute())
    for row in rows:
        running: set[str] = row.pop("running_ids")
        oldest_free = None
        for member, score in row.pop("oldest"):
            if next(flags):
                running.add(member)
            elif member not in running and oldest_free is None:
                oldest_free = score
        due = row.pop("due")
        row["running"] = len(running)
        row["ready"] = max(due - len(running), 0)
        row["oldest_ready_age_s"] = round(max(now_ms - oldest_free, 0) / 1000, 3) if oldest_free else None
