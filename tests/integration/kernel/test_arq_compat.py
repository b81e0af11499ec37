"""arq's own Job API reads jobs the kernel claims and finishes (the reason for keeping arq's layout),
through arq's serializer hooks with our JSON wire format (core.queues.serialization)."""

from __future__ import annotations

from arq.jobs import Job, JobStatus, serialize_result
from redis.asyncio import Redis

from core.queues.claim import JobClaimer, RedisFinish
from core.queues.keys import queue_key
from core.queues.serialization import decode_any, encode_result
from tests.integration.kernel.conftest import now_ms, put_jobs

Q = queue_key("periodic_run")


async def test_arq_job_status_through_a_jobs_life(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1)
    await redis.zadd(Q, {"deferred": now_ms() + 60_000})
    job = Job(jid, redis, _queue_name=Q, _deserializer=decode_any)
    assert await job.status() == JobStatus.queued
    assert await Job("deferred", redis, _queue_name=Q, _deserializer=decode_any).status() == JobStatus.deferred
    info = await job.info()
    assert info is not None
    assert (info.function, info.kwargs) == ("noop", {"i": 0})

    claimer = JobClaimer(redis, ["periodic_run"], "w", lease_ms=5_000)
    (claimed,), _ = await claimer.claim(1)
    assert await job.status() == JobStatus.in_progress

    started = now_ms()
    result = serialize_result("noop", (), {"i": 0}, claimed.attempt, started, True, {"ok": 1}, started, now_ms(),
                              f"{jid}:noop", "periodic_run", job_id=jid, serializer=encode_result)
    await claimer.finish([RedisFinish(Q, jid, terminal=True, result=result, keep_result_ms=60_000)])
    assert await job.status() == JobStatus.complete
    assert await job.result(timeout=1) == {"ok": 1}
