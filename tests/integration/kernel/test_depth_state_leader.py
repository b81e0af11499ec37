"""Depth, job state and leader lease contracts."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from core.queues.catalog import queue
from core.queues.claim import JobClaimer, RedisFinish
from core.queues.depth import HEAD_SCAN, queue_depths
from core.queues.keys import in_progress_key, job_key, queue_key
from core.queues.leader import LeaderLease, current_leader
from core.queues.state import JobState, job_states
from tests.integration.kernel.conftest import now_ms, put_jobs

PERIODIC = queue("periodic_run")


async def _depth(redis: Redis, now: int | None = None) -> tuple[int, int, int, float | None]:
    (d,) = await queue_depths(redis, [PERIODIC], now)
    return d.ready, d.deferred, d.running, d.oldest_ready_age_s


async def test_depth_follows_claims_finishes_and_deferred_jobs(redis: Redis) -> None:
    base = now_ms() - 10_000
    ids = await put_jobs(redis, "periodic_run", 5, score=base)  # due at base, base + 1, ... base + 4
    await redis.zadd(queue_key("periodic_run"), {"later-1": base + 70_000, "later-2": base + 130_000})
    assert await _depth(redis, base + 10_000) == (5, 2, 0, 10.0)
    claimer = JobClaimer(redis, ["periodic_run"], "w", lease_ms=30_000)
    await claimer.claim(2)  # the two oldest
    now = now_ms()
    assert await _depth(redis, now) == (3, 2, 2, round((now - base - 2) / 1000, 3))
    await claimer.finish([RedisFinish(queue_key("periodic_run"), ids[0], terminal=True)])
    assert (await _depth(redis))[:3] == (3, 2, 1)


async def test_a_job_whose_worker_died_counts_as_ready_once_its_lease_deadline_passed(redis: Redis) -> None:
    await put_jobs(redis, "periodic_run", 1)
    await JobClaimer(redis, ["periodic_run"], "dead", lease_ms=300).claim(1)
    assert (await _depth(redis))[:3] == (0, 0, 1)
    await asyncio.sleep(0.4)
    assert (await _depth(redis))[:3] == (1, 0, 0)


async def test_jobs_leased_outside_the_kernel_count_as_running(redis: Redis) -> None:
    now = now_ms()
    ids = await put_jobs(redis, "periodic_run", 4, score=now - 4_000)
    await redis.set(in_progress_key(ids[0]), "arq-worker", px=10_000)
    assert await _depth(redis, now) == (3, 0, 1, 3.999)


async def test_depth_of_an_empty_catalog_queue(redis: Redis) -> None:
    depths = {d.queue: d for d in await queue_depths(redis)}
    assert len(depths) == 18
    assert (depths["ai"].ready, depths["ai"].running, depths["ai"].oldest_ready_age_s) == (0, 0, None)


async def test_depth_reads_a_bounded_head_of_a_big_backlog(private_redis: Redis) -> None:
    redis = private_redis
    await put_jobs(redis, "periodic_run", 5 * HEAD_SCAN)
    before = await _exists_calls(redis)
    ready, _, _, _ = await _depth(redis)
    assert ready == 5 * HEAD_SCAN
    assert await _exists_calls(redis) - before == HEAD_SCAN


async def _exists_calls(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_exists", {}).get("calls", 0))


async def test_job_states(redis: Redis) -> None:
    (running, queued, data_only) = await put_jobs(redis, "periodic_run", 3)
    await JobClaimer(redis, ["periodic_run"], "w", lease_ms=5_000).claim(1)
    await redis.zrem(queue_key("periodic_run"), data_only)
    await redis.set(job_key("elsewhere"), b"x")
    states = await job_states(redis, [(running, "periodic_run"), (queued, "periodic_run"),
                                      (data_only, "periodic_run"), ("elsewhere", "periodic_run"),
                                      ("unknown", "periodic_run")])
    assert states == [JobState.IN_PROGRESS, JobState.RUNNABLE, JobState.GONE, JobState.GONE, JobState.GONE]


async def test_leader_lease_is_renewed_and_released_only_by_its_holder(redis: Redis) -> None:
    first = LeaderLease(redis, "ctl-1", 5.0)
    second = LeaderLease(redis, "ctl-2", 5.0)
    assert await first.try_acquire()
    assert not await second.try_acquire()
    await second.release()
    assert await current_leader(redis) == "ctl-1"
    assert await first.renew()
    await first.release()
    assert await current_leader(redis) is None
    assert await second.try_acquire()
    assert not await first.renew()
