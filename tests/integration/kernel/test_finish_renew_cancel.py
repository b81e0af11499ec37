"""Finish, lease renewal and cancel contracts."""

from __future__ import annotations

import pickle

from redis.asyncio import Redis

from core.queues.cancel import CancelOutcome, cancel_job
from core.queues.claim import JobClaimer, RedisFinish
from core.queues.keys import (
    abort_key,
    in_progress_key,
    job_key,
    queue_key,
    result_key,
    retry_key,
    running_key,
)
from tests.integration.kernel.conftest import now_ms, put_jobs

Q = queue_key("periodic_run")
RUNNING = running_key("periodic_run")


async def test_terminal_finish_keeps_the_result_and_removes_the_job(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1)
    claimer = JobClaimer(redis, ["periodic_run"], "w", lease_ms=5_000)
    await claimer.claim(1)
    await claimer.finish([RedisFinish(Q, jid, terminal=True, result=pickle.dumps("ok"), keep_result_ms=60_000)])
    assert pickle.loads(await redis.get(result_key(jid))) == "ok"
    assert 0 < await redis.pttl(result_key(jid)) <= 60_000
    assert await redis.exists(job_key(jid), in_progress_key(jid), retry_key(jid)) == 0
    assert await redis.zscore(Q, jid) is None
    assert await redis.zscore(RUNNING, jid) is None


async def test_a_requeued_job_is_due_at_once_at_its_original_score(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1, score=1_000)
    claimer = JobClaimer(redis, ["periodic_run"], "w", lease_ms=5_000)
    await claimer.claim(1)
    await claimer.finish([RedisFinish(Q, jid, terminal=False)])
    assert await redis.zscore(Q, jid) == 1_000
    assert await redis.get(in_progress_key(jid)) is None
    assert await redis.zscore(RUNNING, jid) is None
    (again,), _ = await claimer.claim(1)
    assert again.attempt == 2


async def test_a_retry_is_deferred_to_its_retry_time(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1)
    claimer = JobClaimer(redis, ["periodic_run"], "w", lease_ms=5_000)
    await claimer.claim(1)
    retry_at = now_ms() + 60_000
    await claimer.finish([RedisFinish(Q, jid, terminal=False, retry_at_ms=retry_at)])
    assert await redis.zscore(Q, jid) == retry_at
    jobs, next_due = await claimer.claim(1)
    assert (jobs, next_due) == ([], retry_at)


async def test_a_finish_leaves_a_job_another_worker_claimed_again_alone(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1)
    slow = JobClaimer(redis, ["periodic_run"], "slow", lease_ms=5_000)
    await slow.claim(1)
    await redis.set(in_progress_key(jid), "other", px=5_000)  # slow's lease lapsed; another worker holds it
    await slow.finish([RedisFinish(Q, jid, terminal=True, result=b"late", keep_result_ms=1_000)])
    assert await redis.exists(job_key(jid)) == 1
    assert await redis.get(in_progress_key(jid)) == b"other"
    assert await redis.get(result_key(jid)) is None


async def test_renew_extends_lease_and_deadline_and_reports_lost_leases(redis: Redis) -> None:
    (kept, lost) = await put_jobs(redis, "periodic_run", 2)
    claimer = JobClaimer(redis, ["periodic_run"], "w", lease_ms=1_000)
    await claimer.claim(2)
    before = await redis.zscore(Q, kept) or 0
    await redis.set(in_progress_key(lost), "thief", px=5_000)
    claimer_lease_ms = 20_000
    renewer = JobClaimer(redis, ["periodic_run"], "w", lease_ms=claimer_lease_ms)
    renewer._held = dict(claimer._held)  # the same worker after a longer lease was configured
    assert await renewer.renew_leases([kept, lost, "never-claimed"]) == [lost]
    assert await redis.pttl(in_progress_key(kept)) > 1_000
    assert (await redis.zscore(Q, kept) or 0) > before
    assert await redis.zscore(RUNNING, kept) == await redis.zscore(Q, kept)
    assert await redis.get(in_progress_key(lost)) == b"thief"


async def test_cancel_removes_a_queued_job(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1)
    assert await cancel_job(redis, "periodic_run", jid) == CancelOutcome.REMOVED
    assert await redis.zscore(Q, jid) is None
    assert await redis.exists(job_key(jid)) == 0
    assert await cancel_job(redis, "periodic_run", jid) == CancelOutcome.MISSING


async def test_cancel_asks_the_worker_of_a_running_job_to_abort(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1)
    claimer = JobClaimer(redis, ["periodic_run"], "w", lease_ms=5_000)
    await claimer.claim(1)
    assert await cancel_job(redis, "periodic_run", jid, now_ms=42) == CancelOutcome.ABORT_REQUESTED
    assert await redis.zscore(abort_key(), jid) == 42
    assert await redis.exists(job_key(jid)) == 1
    assert await claimer.abort_requests([jid]) == [jid]


async def test_cancel_of_a_job_whose_worker_died_removes_it_everywhere(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1)
    await JobClaimer(redis, ["periodic_run"], "dead", lease_ms=5_000).claim(1)
    await redis.delete(in_progress_key(jid))  # its lease expired
    assert await cancel_job(redis, "periodic_run", jid) == CancelOutcome.REMOVED
    assert await redis.zscore(Q, jid) is None
    assert await redis.zscore(RUNNING, jid) is None


async def test_a_requeue_does_not_bring_back_a_job_finished_meanwhile(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1)
    slow = JobClaimer(redis, ["periodic_run"], "slow", lease_ms=5_000)
    await slow.claim(1)
    await redis.delete(in_progress_key(jid), job_key(jid))  # its lease lapsed, another worker ran it to the end
    await redis.zrem(Q, jid)
    await slow.finish([RedisFinish(Q, jid, terminal=False)])
    assert await redis.zscore(Q, jid) is None
    assert await redis.zscore(RUNNING, jid) is None
