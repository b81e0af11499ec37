"""Queue depth: per queue, how many jobs are ready, deferred and running, and how long the oldest
ready job has waited. The one implementation behind the controller's sampler, the admin API's live
view and ``/metrics``.

Cost is bounded, whatever the backlog: a claim re-scores a running job to its lease deadline and
records it in the queue's running set (``integramon:running:<name>``), so

- ready   = ``ZCOUNT queue -inf now``                    (due jobs nobody runs),
- running = ``ZCOUNT running (now +inf``                 (live leases taken through the kernel),
- deferred = ``ZCOUNT queue (now +inf`` - running        (future scores that are not lease deadlines),
- oldest ready = the first member of the due range,

each O(log n) in the queue's size. One bounded correction keeps the numbers honest for jobs leased
by something that does not re-score them (arq's own worker, a release before the kernel): the
first HEAD_SCAN due jobs are checked for a lease, and a leased one counts as running, not ready.
One sample of every queue is one MULTI/EXEC round trip plus, when queues have due jobs, one
pipelined round of at most HEAD_SCAN ``EXISTS`` per queue.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from core.queues.catalog import QUEUES, QueueSpec
from core.queues.keys import in_progress_key, queue_key, running_key

__all__ = ["HEAD_SCAN", "QueueDepth", "queue_depths"]

HEAD_SCAN = 16  # due jobs per queue checked for a lease taken outside the kernel


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """One queue's depth at one moment."""

    queue: str
    group_name: str
    ready: int
    deferred: int
    running: int
    oldest_ready_age_s: float | None

    def as_dict(self) -> dict[str, Any]:
        """The admin API's row (``group`` rather than the table column's ``group_name``)."""
        return {"queue": self.queue, "group": self.group_name, "ready": self.ready, "deferred": self.deferred,
                "running": self.running, "oldest_ready_age_s": self.oldest_ready_age_s}


async def queue_depths(redis: Redis, queues: Iterable[QueueSpec] | None = None,
                       now_ms: int | None = None) -> list[QueueDepth]:
    """Depth of each queue (every catalogued queue by default, in catalog order) at ``now_ms``."""
    specs = list(QUEUES.values() if queues is None else queues)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    async with redis.pipeline(transaction=True) as pipe:
        for spec in specs:
            key = queue_key(spec.name)
            pipe.zcount(key, "-inf", now)
            pipe.zcount(key, f"({now}", "+inf")
            pipe.zcount(running_key(spec.name), f"({now}", "+inf")
            pipe.zrangebyscore(key, "-inf", now, start=0, num=HEAD_SCAN, withscores=True)
        counts = await pipe.execute()
    heads: list[list[tuple[str, float]]] = [
        [(_text(m), float(s)) for m, s in counts[4 * i + 3]] for i in range(len(specs))]
    leased = await _leased(redis, heads)
    depths = []
    for i, spec in enumerate(specs):
        due, later, running = int(counts[4 * i]), int(counts[4 * i + 1]), int(counts[4 * i + 2])
        foreign = sum(1 for member, _ in heads[i] if member in leased)
        oldest = next((score for member, score in heads[i] if member not in leased), None)
        if oldest is None and heads[i] and due > len(heads[i]):
            oldest = heads[i][-1][1]  # every scanned job is leased: the age is at most this old
        ready = max(due - foreign, 0)
        age = round(max(now - oldest, 0) / 1000, 3) if oldest is not None and ready else None
        depths.append(QueueDepth(spec.name, spec.group, ready, max(later - running, 0), running + foreign, age))
    return depths


async def _leased(redis: Redis, heads: list[list[tuple[str, float]]]) -> set[str]:
    """Members of the due heads that hold an in-progress lease."""
    members = [member for head in heads for member, _ in head]
    if not members:
        return set()
    async with redis.pipeline(transaction=False) as pipe:
        for member in members:
            pipe.exists(in_progress_key(member))
        flags = await pipe.execute()
    return {member for member, flag in zip(members, flags, strict=True) if flag}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
