"""Plain arq worker settings for the peer baseline: a no-op job, poll_delay 0.05 s, max_jobs 100."""

from __future__ import annotations

import os
from typing import Any

from arq.connections import RedisSettings


async def noop(ctx: dict[str, Any]) -> None:
    """The same no-op the IntegraMon benchmark runs."""


class WorkerSettings:
    functions = [noop]
    redis_settings = RedisSettings.from_dsn(os.environ.get("BENCH_ARQ_REDIS", "redis://127.0.0.1:6379/13"))
    poll_delay = 0.05
    max_jobs = 100
    burst = True
    queue_name = "arq:queue:bench"
