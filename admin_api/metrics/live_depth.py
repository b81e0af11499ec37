"""Per-queue depth computed from Redis now: ready, deferred, running and the oldest ready job's age.

The numbers come from the Redis kernel's one depth function (:func:`core.queues.depth.queue_depths`),
the same the controller stores in ``queue_sample``, so the live view and the history cannot disagree.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from core.queues.depth import queue_depths as kernel_queue_depths

__all__ = ["queue_depths"]


async def queue_depths(redis: Redis) -> list[dict[str, Any]]:
    """One row per catalogued queue, in catalog order."""
    return [depth.as_dict() for depth in await kernel_queue_depths(redis)]
