"""Self-test functions of the runtime (``noop``, ``sleep``, ``fail``) on the periodic group.

They exist so tests, benchmarks and operators can exercise slots, leases, retries and shutdown
without touching a CPI tenant.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from core.errors import PermanentJobError, RetryableJobError
from core.queues.catalog import FAIL, NOOP, SLEEP
from functions.registry import JobFunction, implemented_in, implements
from functions.runner.context import JobContext

__all__ = ["JOBS"]


@implements(NOOP)
async def noop(ctx: JobContext, **kwargs: Any) -> None:
    """Does nothing. ``counter``: increment that Redis hash field (exactly-once checks); ``stamp``:
    record the start time in that hash (pickup latency benchmark); ``incr``: INCR that key (the
    peer benchmark's workload)."""
    started = time.time()
    counter, stamp, incr = kwargs.get("counter"), kwargs.get("stamp"), kwargs.get("incr")
    if incr:
        await ctx.resources.redis.incr(str(incr))
    if counter:
        await ctx.resources.redis.hincrby(str(counter), ctx.job_id, 1)
    if stamp:
        await ctx.resources.redis.hset(str(stamp), ctx.job_id, repr(started))


@implements(SLEEP)
async def sleep(ctx: JobContext, seconds: float = 1.0, counter: str | None = None) -> dict[str, float]:
    """Sleeps; records its start in ``counter`` (a Redis hash) so tests can see who ran when."""
    if counter:
        await ctx.resources.redis.hincrby(counter, ctx.job_id, 1)
    await asyncio.sleep(float(seconds))
    return {"slept": float(seconds)}


@implements(FAIL)
async def fail(ctx: JobContext, permanent: bool = False, message: str = "requested failure") -> None:
    """Always raises: permanent errors are not retried, others are retried by the catalog policy."""
    if permanent:
        raise PermanentJobError(message)
    raise RetryableJobError(message)


JOBS: dict[str, JobFunction] = implemented_in(__name__)  # the table, derived from @implements
