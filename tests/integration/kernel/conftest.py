"""Helpers for the Redis kernel's contract tests (real Redis, the test database number)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bench.kernel import scratch_redis
from core.queues.enqueue import serialize_job
from core.queues.keys import job_key, queue_key


def now_ms() -> int:
    return int(time.time() * 1000)


async def put_jobs(redis: Redis, queue: str, count: int, *, score: int | None = None, prefix: str | None = None,
                   function: str = "noop") -> list[str]:
    """``count`` jobs in arq's layout (as the enqueue script leaves them), due at ``score`` + i."""
    base = now_ms() - 60_000 if score is None else score
    ids = [f"{prefix or queue}-{i}" for i in range(count)]
    async with redis.pipeline(transaction=False) as pipe:
        for i, jid in enumerate(ids):
            pipe.set(job_key(jid), serialize_job(function, {"i": i}, base))
            pipe.zadd(queue_key(queue), {jid: base + i})
        await pipe.execute()
    return ids


@pytest.fixture
async def private_redis() -> AsyncIterator[Redis]:
    """A throw-away redis-server of this test alone (server-wide statistics such as INFO commandstats
    then count only the test's own commands)."""
    with scratch_redis() as url:
        client = Redis.from_url(url)
        yield client
        await client.aclose()
