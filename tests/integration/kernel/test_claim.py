"""Claim contract: fairness across queues, exactly-once, leases, abort requests, bounded reads."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from core.queues.claim import JobClaimer, RedisFinish
from core.queues.keys import abort_key, in_progress_key, queue_key, retry_key, running_key
from tests.integration.kernel.conftest import now_ms, put_jobs


async def test_round_robin_across_queues_whatever_the_backlog(redis: Redis) -> None:
    await put_jobs(redis, "periodic_run", 1000, score=1_000)
    await put_jobs(redis, "stats_cache", 2, score=5_000)  # enqueued after the whole backlog
    claimer = JobClaimer(redis, ["periodic_run", "stats_cache"], "w1", lease_ms=5_000)
    jobs, _ = await claimer.claim(4)
    assert sorted(j.queue for j in jobs) == ["periodic_run", "periodic_run", "stats_cache", "stats_cache"]
    again, _ = await claimer.claim(1)
    assert [j.queue for j in again] == ["periodic_run"]


async def test_a_one_slot_claim_alternates_the_first_queue(redis: Redis) -> None:
    await put_jobs(redis, "periodic_run", 10, score=1_000)
    await put_jobs(redis, "stats_cache", 10, score=9_000)
    claimer = JobClaimer(redis, ["periodic_run", "stats_cache"], "w1", lease_ms=5_000)
    order = [(await claimer.claim(1))[0][0].queue for _ in range(4)]
    assert order == ["periodic_run", "stats_cache", "periodic_run", "stats_cache"]


async def test_exactly_once_with_many_concurrent_claimers(redis_url: str) -> None:
    clients = [Redis.from_url(redis_url) for _ in range(6)]
    try:
        ids = set(await put_jobs(clients[0], "periodic_run", 600) + await put_jobs(clients[0], "stats_cache", 300))
        claimers = [JobClaimer(c, ["periodic_run", "stats_cache"], f"w{i}", lease_ms=30_000)
                    for i, c in enumerate(clients)]

        async def drain(claimer: JobClaimer) -> list[str]:
            got: list[str] = []
            while True:
                jobs, _ = await claimer.claim(7)
                if not jobs:
                    return got
                got += [j.job_id for j in jobs]

        results = await asyncio.gather(*(drain(c) for c in claimers))
        claimed = [jid for got in results for jid in got]
        assert len(claimed) == len(set(claimed)) == len(ids)
        assert set(claimed) == ids
        assert sum(1 for got in results if got) > 1  # really concurrent
    finally:
        for c in clients:
            await c.aclose()


async def test_a_claim_reads_and_moves_only_what_it_takes(redis: Redis) -> None:
    await put_jobs(redis, "periodic_run", 1000)
    claimer = JobClaimer(redis, ["periodic_run"], "w1", lease_ms=5_000)
    jobs, next_due = await claimer.claim(3)
    assert len(jobs) == 3
    assert next_due is None  # every wanted job was found: no need to look further
    now = now_ms()
    assert await redis.zcount(queue_key("periodic_run"), "-inf", now) == 997
    assert await redis.zcard(running_key("periodic_run")) == 3


async def test_the_lease_holds_the_worker_id_and_the_job_hides_until_its_deadline(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1)
    a = JobClaimer(redis, ["periodic_run"], "a", lease_ms=300)
    b = JobClaimer(redis, ["periodic_run"], "b", lease_ms=300)
    (job,), _ = await a.claim(1)
    assert (job.job_id, job.attempt, job.payload[:1]) == (jid, 1, b"{")  # our JSON wire format
    assert await redis.get(in_progress_key(jid)) == b"a"
    assert 0 < await redis.pttl(in_progress_key(jid)) <= 300
    assert await redis.zscore(queue_key("periodic_run"), jid) is not None  # arq's layout: still in its queue
    assert (await b.claim(1))[0] == []
    await asyncio.sleep(0.4)  # a dies: its lease ends, the job is due again by itself
    (again,), _ = await b.claim(1)
    assert (again.job_id, again.attempt) == (jid, 2)
    assert await redis.get(in_progress_key(jid)) == b"b"
    assert 88_000 < await redis.ttl(retry_key(jid)) <= 88_400


async def test_abort_requested_before_the_claim_is_reported_and_cleared(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1)
    await redis.zadd(abort_key(), {jid: now_ms()})
    (job,), _ = await JobClaimer(redis, ["periodic_run"], "w", lease_ms=5_000).claim(1)
    assert job.aborted
    assert await redis.zscore(abort_key(), jid) is None


async def test_abort_requests_of_running_jobs(redis: Redis) -> None:
    ids = await put_jobs(redis, "periodic_run", 3)
    claimer = JobClaimer(redis, ["periodic_run"], "w", lease_ms=5_000)
    await claimer.claim(3)
    await redis.zadd(abort_key(), {ids[1]: now_ms()})
    assert await claimer.abort_requests(ids) == [ids[1]]
    assert await claimer.abort_requests(ids) == []


async def test_next_due_skips_running_jobs(redis: Redis) -> None:
    await put_jobs(redis, "periodic_run", 2)
    await redis.zadd(queue_key("periodic_run"), {"later": 10**15})
    a = JobClaimer(redis, ["periodic_run"], "a", lease_ms=60_000)
    await a.claim(2)  # both now carry a lease deadline as their score
    jobs, next_due = await a.claim(1)
    assert jobs == []
    assert next_due == 10**15


async def test_a_job_leased_outside_the_kernel_is_not_taken_and_is_hidden(redis: Redis) -> None:
    (legacy, free) = await put_jobs(redis, "periodic_run", 2)
    await redis.set(in_progress_key(legacy), "arq-worker", px=10_000)  # arq's own worker runs it
    claimer = JobClaimer(redis, ["periodic_run"], "w", lease_ms=5_000)
    first, _ = await claimer.claim(1)
    assert first == []  # the reservation met the leased job; it was not taken
    assert await redis.get(in_progress_key(legacy)) == b"arq-worker"
    assert (await redis.zscore(queue_key("periodic_run"), legacy) or 0) > now_ms()  # hidden until its lease ends
    second, _ = await claimer.claim(1)
    assert [j.job_id for j in second] == [free]


async def test_a_job_cancelled_between_reserve_and_lease_is_not_taken(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1)
    claimer = JobClaimer(redis, ["periodic_run"], "w", lease_ms=5_000)
    reserved = [("periodic_run", jid, 0)]
    await redis.zrem(queue_key("periodic_run"), jid)  # cancel.lua's effect on a job with no lease
    assert await claimer._take_leases(reserved, now_ms()) == []
    assert await redis.get(in_progress_key(jid)) is None
    assert await redis.zscore(running_key("periodic_run"), jid) is None


async def test_running_entries_of_dead_workers_are_dropped_after_a_lease(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1)
    await JobClaimer(redis, ["periodic_run"], "dead", lease_ms=200).claim(1)
    await asyncio.sleep(0.25)
    survivor = JobClaimer(redis, ["periodic_run"], "alive", lease_ms=200)
    (again,), _ = await survivor.claim(1)  # due again by itself; its running entry is renewed
    assert again.job_id == jid
    await survivor.finish([RedisFinish(queue_key("periodic_run"), jid, terminal=True)])
    await redis.zadd(running_key("periodic_run"), {"orphan": now_ms() - 1_000})  # a dead worker's leftover
    await survivor.claim(1)
    assert await redis.zcard(running_key("periodic_run")) == 0
