"""The benchmark's no-op job for the peer task queues (arq, SAQ, Dramatiq): one Redis INCR each, and,
for the pickup-latency phase, the start time recorded under a token. Loaded by each peer's own CLI;
the Redis URL comes from ``BENCH_PEER_REDIS``."""

from __future__ import annotations

import os
import time
from typing import Any

import redis
import redis.asyncio as aredis
from arq.connections import RedisSettings

URL = os.environ.get("BENCH_PEER_REDIS", "redis://127.0.0.1:6379/13")
COUNTER = "bench:peers:count"
STARTS = "bench:peers:starts"


async def _record(client: aredis.Redis, token: str | None) -> None:
    started = time.time()
    await client.incr(COUNTER)
    if token:
        await client.hset(STARTS, token, repr(started))


# ---- arq: poll_delay 0.05 s, max_jobs 100 (what the table ran) ----
async def arq_incr(ctx: dict[str, Any], token: str | None = None) -> None:
    await _record(ctx["redis"], token)


class ArqSettings:
    functions = [arq_incr]
    redis_settings = RedisSettings.from_dsn(URL)
    poll_delay = 0.05
    max_jobs = 100
    queue_name = "arq:queue:peers"


# ---- SAQ: concurrency 10 ----
async def saq_incr(ctx: dict[str, Any], *, token: str | None = None) -> None:
    await _record(ctx["bench_redis"], token)


async def _saq_startup(ctx: dict[str, Any]) -> None:
    ctx["bench_redis"] = aredis.Redis.from_url(URL)


def _saq_settings() -> dict[str, Any]:
    from saq import Queue

    return {"queue": Queue.from_url(URL, name="peers"), "functions": [("incr", saq_incr)], "concurrency": 10,
            "startup": _saq_startup}


SAQ_SETTINGS = _saq_settings() if os.environ.get("BENCH_PEER") == "saq" else {}


# ---- Dramatiq: 1 process x 8 threads, Redis broker ----
if os.environ.get("BENCH_PEER") == "dramatiq":
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    _sync = redis.Redis.from_url(URL)
    dramatiq.set_broker(RedisBroker(url=URL))  # type: ignore[no-untyped-call]

    @dramatiq.actor(queue_name="peers", max_retries=0)
    def dramatiq_incr(token: str | None = None) -> None:
        started = time.time()
        _sync.incr(COUNTER)
        if token:
            _sync.hset(STARTS, token, repr(started))
