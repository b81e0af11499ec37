"""The worker's claim and finish calls live in the Redis kernel (:mod:`core.queues.claim`), shared
with the benchmarks and the kernel's contract tests; this module keeps the runner's import path."""

from __future__ import annotations

from core.queues.claim import ClaimedJob, JobClaimer, RedisFinish

__all__ = ["ClaimedJob", "JobClaimer", "RedisFinish"]
