"""Where jobs stand in Redis (read by reconciliation): in progress, runnable, or gone."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

from redis.asyncio import Redis

from core.queues.keys import in_progress_key, job_key, queue_key
from core.queues.scripts import Lua, script

__all__ = ["STATE_CHUNK", "JobState", "job_states"]

STATE_CHUNK = 5000  # jobs per script call: bounds one call's time on Redis' single thread


class JobState(IntEnum):
    GONE = 0  # neither leased nor runnable: nothing in Redis will ever run it
    RUNNABLE = 1  # job data and queue entry exist: a worker will claim it
    IN_PROGRESS = 2  # a worker holds its lease


async def job_states(redis: Redis, jobs: Sequence[tuple[str, str]]) -> list[JobState]:
    """The state of each ``(job id, queue name)``, in order; one script call per STATE_CHUNK jobs."""
    run = script(redis, Lua.JOB_STATE)
    states: list[JobState] = []
    for start in range(0, len(jobs), STATE_CHUNK):
        chunk = jobs[start:start + STATE_CHUNK]
        keys: list[str] = []
        for job_id, queue_name in chunk:
            keys += [in_progress_key(job_id), job_key(job_id), queue_key(queue_name)]
        states += [JobState(int(x)) for x in await run(keys=keys, args=[job_id for job_id, _ in chunk])]
    return states
