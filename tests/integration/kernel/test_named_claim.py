"""The one-step claim of jobs a wake-up names: the enqueue script's message, and claim_named's rules
(only due, unreserved, unleased jobs; exactly once; the same lease and queue layout as a full claim)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from core.queues.catalog import NOOP
from core.queues.claim import JobClaimer
from core.queues.enqueue import Enqueuer, EnqueueRequest
from core.queues.keys import in_progress_key, queue_key, retry_key, running_key, wake_channel
from core.queues.wake import NAMED_MAX, named_jobs
from tests.integration.kernel.conftest import now_ms, put_jobs


class _NoLedger:
    """Stands in for the session factory: these tests call the enqueue script only."""


async def _push(redis: Redis, requests: list[EnqueueRequest]) -> list[bytes]:
    """Run the enqueue script for ``requests`` and return the wake-up messages it published."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(wake_channel(NOOP.queue))
    assert (await pubsub.get_message(timeout=5.0) or {}).get("type") == "subscribe"  # listening before the push
    enqueuer = Enqueuer(redis, _NoLedger())  # type: ignore[arg-type]
    jobs = [(req, f"named-{i}") for i, req in enumerate(requests)]
    try:
        await enqueuer._push(jobs, Enqueuer._script_call(jobs, now_ms()))
    finally:
        await enqueuer.aclose()
    messages: list[bytes] = []
    while (message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)) is not None:
        messages.append(message["data"])
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    return messages


async def test_a_small_due_batch_is_named_in_its_wake_up(redis: Redis) -> None:
    messages = await _push(redis, [EnqueueRequest(NOOP, {}) for _ in range(2)])
    assert len(messages) == 1
    assert named_jobs(messages[0]) == ["named-0", "named-1"]


async def test_a_big_or_deferred_batch_asks_for_a_full_claim(redis: Redis) -> None:
    big = await _push(redis, [EnqueueRequest(NOOP, {}) for _ in range(NAMED_MAX + 1)])
    assert [named_jobs(m) for m in big] == [None]
    assert big == [str(NAMED_MAX + 1).encode()]
    await redis.flushdb()
    deferred = await _push(redis, [EnqueueRequest(NOOP, {}, defer_s=60)])
    assert [named_jobs(m) for m in deferred] == [None]  # not due: a full claim learns its time


async def test_claim_named_takes_a_due_job_like_a_full_claim_would(redis: Redis) -> None:
    (jid,) = await put_jobs(redis, "periodic_run", 1)
    claimer = JobClaimer(redis, ["periodic_run"], "w1", lease_ms=5_000)
    (job,) = await claimer.claim_named([("periodic_run", jid)])
    assert (job.job_id, job.attempt, job.payload[:1], job.aborted) == (jid, 1, b"{", False)
    assert await redis.get(in_progress_key(jid)) == b"w1"
    assert await redis.get(retry_key(jid)) == b"1"
    deadline = await redis.zscore(queue_key("periodic_run"), jid)
    assert deadline is not None
    assert deadline > now_ms()  # hidden from every claimer until its lease deadline
    assert await redis.zscore(running_key("periodic_run"), jid) == deadline
    assert await claimer.claim_named([("periodic_run", jid)]) == []  # never twice
    assert (await claimer.claim(1))[0] == []


async def test_claim_named_leaves_deferred_missing_and_leased_jobs(redis: Redis) -> None:
    (later,) = await put_jobs(redis, "periodic_run", 1, score=now_ms() + 60_000, prefix="later")
    (leased,) = await put_jobs(redis, "periodic_run", 1, prefix="leased")
    await redis.set(in_progress_key(leased), "arq-worker", px=5_000)  # held by a process that does not reserve
    claimer = JobClaimer(redis, ["periodic_run"], "w1", lease_ms=5_000)
    got = await claimer.claim_named([("periodic_run", later), ("periodic_run", "gone"), ("periodic_run", leased)])
    assert got == []
    assert await redis.get(in_progress_key(leased)) == b"arq-worker"
    assert not await redis.exists(in_progress_key(later), retry_key(later), retry_key(leased))


async def test_named_and_full_claims_racing_take_each_job_once(redis_url: str) -> None:
    clients = [Redis.from_url(redis_url) for _ in range(4)]
    try:
        ids = await put_jobs(clients[0], "periodic_run", 300)
        named = [JobClaimer(c, ["periodic_run"], f"n{i}", lease_ms=30_000) for i, c in enumerate(clients[:2])]
        full = [JobClaimer(c, ["periodic_run"], f"f{i}", lease_ms=30_000) for i, c in enumerate(clients[2:])]

        async def by_name(claimer: JobClaimer, order: list[str]) -> list[str]:
            got: list[str] = []
            for start in range(0, len(order), 3):
                batch = [("periodic_run", j) for j in order[start:start + 3]]
                got += [j.job_id for j in await claimer.claim_named(batch)]
                await asyncio.sleep(0)
            return got

        async def fully(claimer: JobClaimer) -> list[str]:
            got: list[str] = []
            while jobs := (await claimer.claim(2))[0]:
                got += [j.job_id for j in jobs]
            return got

        results = await asyncio.gather(by_name(named[0], ids), by_name(named[1], ids[::-1]),
                                       *(fully(c) for c in full))
        claimed = [jid for got in results for jid in got]
        assert sorted(claimed) == sorted(ids)  # every job once, none twice
        assert results[0]  # both kinds of claimer really took part
        assert results[1]
        assert results[2] + results[3]
    finally:
        for c in clients:
            await c.aclose()
