"""Cancel one job in Redis: remove it from its queue, or ask the worker running it to abort."""

from __future__ import annotations

import time
from enum import StrEnum

from redis.asyncio import Redis

from core.queues.keys import abort_key, in_progress_key, job_key, queue_key, running_key
from core.queues.scripts import Lua, script

__all__ = ["CancelOutcome", "cancel_job"]


class CancelOutcome(StrEnum):
    ABORT_REQUESTED = "abort"  # running: its worker sees the request at its next heartbeat
    REMOVED = "removed"  # was queued or deferred: no worker can claim it any more
    MISSING = "missing"  # not in Redis (finished meanwhile, or Redis lost it)


async def cancel_job(redis: Redis, queue_name: str, job_id: str, now_ms: int | None = None) -> CancelOutcome:
    """One atomic script call (``lua/cancel.lua``)."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    keys = [queue_key(queue_name), job_key(job_id), in_progress_key(job_id), abort_key(), running_key(queue_name)]
    outcome = await script(redis, Lua.CANCEL)(keys=keys, args=[job_id, now])
    return CancelOutcome(outcome.decode() if isinstance(outcome, bytes) else str(outcome))
