"""Fair claiming across the queues of a group, against real Redis."""

from __future__ import annotations

from redis.asyncio import Redis

from core.queues.enqueue import serialize_job
from functions.runner.claim import JobClaimer


async def _fill(redis: Redis, queue: str, count: int, score: int) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        for i in range(count):
            jid = f"{queue}-{i}"
            pipe.set(f"arq:job:{jid}", serialize_job("noop", {}, score))
            pipe.zadd(f"arq:queue:{queue}", {jid: score + i})
        await pipe.execute()


async def test_a_backlog_on_one_queue_does_not_starve_the_others(redis: Redis) -> None:
    await _fill(redis, "periodic_run", 500, 1_000)
    await _fill(redis, "stats_cache", 3, 2_000)  # enqueued later than the whole backlog
    claimer = JobClaimer(redis, ["periodic_run", "stats_cache"], "w1", lease_ms=5_000, scan_limit=500)
    first, _ = await claimer.claim(2)
    second, _ = await claimer.claim(2)
    queues = [j.queue for j in first + second]
    assert queues.count("stats_cache") == 2
    assert queues.count("periodic_run") == 2


async def test_claims_skip_jobs_leased_by_others_and_report_the_next_due(redis: Redis) -> None:
    await _fill(redis, "periodic_run", 3, 1_000)
    await redis.zadd("arq:queue:periodic_run", {"later": 10**15})
    a = JobClaimer(redis, ["periodic_run"], "a", lease_ms=5_000, scan_limit=100)
    b = JobClaimer(redis, ["periodic_run"], "b", lease_ms=5_000, scan_limit=100)
    got_a, _ = await a.claim(2)
    got_b, next_due = await b.claim(5)
    assert {j.job_id for j in got_a}.isdisjoint({j.job_id for j in got_b})
    assert len(got_a) + len(got_b) == 3
    assert next_due == 10**15
    assert await redis.get(f"arq:in-progress:{got_b[0].job_id}") == b"b"
    assert all(j.attempt == 1 for j in got_a + got_b)
