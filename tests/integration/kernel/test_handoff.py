"""Hand-off (core.queues.handoff): the enqueue script claims a small due batch for workers with an
open offer and publishes each claim on the worker's channel; a worker's full claim withdraws its
offer and returns a handed job it has not seen yet. Real Redis, the real scripts."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from redis.asyncio import Redis

from core.queues.catalog import NOOP
from core.queues.claim import JobClaimer
from core.queues.enqueue import Enqueuer, EnqueueRequest
from core.queues.handoff import parse_handoff
from core.queues.keys import (
    HANDED_OFFERS,
    OFFERS,
    abort_key,
    handoff_channel,
    in_progress_key,
    offering_key,
    queue_key,
    retry_key,
    running_key,
    wake_channel,
)
from core.queues.scripts import RETRY_COUNTER_TTL_S
from core.queues.wake import named_jobs
from tests.integration.kernel.conftest import now_ms

QUEUE = NOOP.queue


class _NoLedger:
    """Stands in for the session factory: these tests call the enqueue script only."""


async def _push(redis: Redis, requests: list[EnqueueRequest]) -> list[str]:
    enqueuer = Enqueuer(redis, _NoLedger())  # type: ignore[arg-type]
    jobs = [(req, req.job_id or os.urandom(8).hex()) for req in requests]
    try:
        await enqueuer._push(jobs, Enqueuer._script_call(jobs, now_ms()))
    finally:
        await enqueuer.aclose()
    return [job_id for _, job_id in jobs]


async def _listen(redis: Redis, *channels: str) -> Any:
    pubsub = redis.pubsub()
    await pubsub.subscribe(*channels)
    for _ in channels:
        assert (await pubsub.get_message(timeout=5.0) or {}).get("type") == "subscribe"
    return pubsub


async def _messages(pubsub: Any) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    while (message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.3)) is not None:
        out.append((message["channel"].decode(), message["data"]))
    return out


async def _offering_claimer(redis: Redis, worker_id: str, lease_ms: int = 5_000) -> JobClaimer:
    claimer = JobClaimer(redis, [QUEUE], worker_id, lease_ms=lease_ms)
    jobs, _next = await claimer.claim(1, offer=True)
    assert jobs == []
    assert claimer.offer_open, "a claim that leaves the queue drained opens an offer"
    return claimer


async def test_a_job_enqueued_alone_is_claimed_for_the_offering_worker_and_published_to_it(redis: Redis) -> None:
    claimer = await _offering_claimer(redis, "w1")
    pubsub = await _listen(redis, handoff_channel("w1"), wake_channel(QUEUE))
    (jid,) = await _push(redis, [EnqueueRequest(NOOP, {"n": 1})])
    [(channel, data)] = await _messages(pubsub)  # no wake-up: nothing is left for anybody else
    assert channel == handoff_channel("w1")
    handed = parse_handoff(data)
    assert (handed.queue, handed.job_id, handed.attempt, handed.aborted) == (QUEUE, jid, 1, False)
    # claimed exactly as a claim would: lease, re-scored to the deadline in queue and running set, try 1
    assert await redis.get(in_progress_key(jid)) == b"w1"
    deadline = await redis.zscore(queue_key(QUEUE), jid)
    assert deadline is not None
    assert deadline > now_ms() + 4_000
    assert await redis.zscore(running_key(QUEUE), jid) == deadline
    assert await redis.get(retry_key(jid)) == b"1"
    assert 0 < await redis.ttl(retry_key(jid)) <= RETRY_COUNTER_TTL_S
    assert await redis.zcard(queue_key(QUEUE)) == 1, "queued once, at its lease deadline"
    assert not await redis.hexists(OFFERS, "w1"), "one job per offer"
    assert await redis.hget(HANDED_OFFERS, "w1") == data
    job = claimer.accept_handoff(data)
    assert job is not None
    assert (job.job_id, job.payload) == (jid, handed.payload)
    assert not claimer.offer_open
    assert claimer.accept_handoff(data) is None, "a generation is delivered once"
    await pubsub.aclose()


async def test_of_two_jobs_one_goes_to_the_single_offer_and_the_other_is_named_in_the_wake_up(redis: Redis) -> None:
    await _offering_claimer(redis, "w1")
    pubsub = await _listen(redis, handoff_channel("w1"), wake_channel(QUEUE))
    first, second = await _push(redis, [EnqueueRequest(NOOP, {}), EnqueueRequest(NOOP, {})])
    messages = await _messages(pubsub)
    assert [channel for channel, _ in messages] == [handoff_channel("w1"), wake_channel(QUEUE)]
    assert parse_handoff(messages[0][1]).job_id == first
    assert named_jobs(messages[1][1]) == [second]
    assert await redis.zscore(queue_key(QUEUE), second) <= now_ms(), "the second is still due for any claimer"
    await pubsub.aclose()


async def test_an_offer_nobody_listens_to_is_dropped_and_the_job_stays_due(redis: Redis) -> None:
    await _offering_claimer(redis, "gone")  # its process died: nobody subscribes to its channel
    pubsub = await _listen(redis, wake_channel(QUEUE))
    (jid,) = await _push(redis, [EnqueueRequest(NOOP, {})])
    [(_channel, data)] = await _messages(pubsub)
    assert named_jobs(data) == [jid]
    assert not await redis.exists(in_progress_key(jid))
    assert not await redis.hexists(OFFERS, "gone")
    assert await redis.zscore(offering_key(QUEUE), "gone") is None
    await pubsub.aclose()


async def test_the_next_offer_is_tried_when_the_first_worker_is_gone(redis: Redis) -> None:
    await _offering_claimer(redis, "gone")
    await _offering_claimer(redis, "alive")
    pubsub = await _listen(redis, handoff_channel("alive"))
    (jid,) = await _push(redis, [EnqueueRequest(NOOP, {})])
    [(_channel, data)] = await _messages(pubsub)
    assert parse_handoff(data).job_id == jid
    assert await redis.get(in_progress_key(jid)) == b"alive"
    await pubsub.aclose()


async def test_no_hand_off_for_a_deferred_job_a_big_batch_an_expired_offer_or_a_still_leased_id(redis: Redis) -> None:
    await _offering_claimer(redis, "w1")
    pubsub = await _listen(redis, handoff_channel("w1"))
    await _push(redis, [EnqueueRequest(NOOP, {}, defer_s=60)])
    await _push(redis, [EnqueueRequest(NOOP, {}) for _ in range(5)])  # more than a wake-up names
    await redis.set(in_progress_key("reused"), "someone", px=5_000)
    await _push(redis, [EnqueueRequest(NOOP, {}, job_id="reused")])
    assert await _messages(pubsub) == []
    assert await redis.hexists(OFFERS, "w1"), "the offer is still open"
    await redis.zadd(offering_key(QUEUE), {"w1": now_ms() - 1})  # it expired (its worker stopped renewing)
    await _push(redis, [EnqueueRequest(NOOP, {})])
    assert await _messages(pubsub) == []
    assert await redis.zcard(offering_key(QUEUE)) == 0, "the expired offer is dropped on the way"
    await pubsub.aclose()


async def test_a_given_id_is_handed_with_its_try_count_and_abort_request(redis: Redis) -> None:
    claimer = await _offering_claimer(redis, "w1")
    pubsub = await _listen(redis, handoff_channel("w1"))
    await redis.set(retry_key("again"), 2, ex=60)  # tried twice before, then its data expired
    await redis.zadd(abort_key(), {"again": now_ms()})  # and an abort was asked for meanwhile
    await _push(redis, [EnqueueRequest(NOOP, {}, job_id="again")])
    [(_channel, data)] = await _messages(pubsub)
    handed = parse_handoff(data)
    assert (handed.job_id, handed.attempt, handed.aborted) == ("again", 3, True)
    assert await redis.get(retry_key("again")) == b"3"
    assert await redis.zscore(abort_key(), "again") is None, "the abort request is taken with the job"
    job = claimer.accept_handoff(data)
    assert job is not None
    assert job.aborted
    await pubsub.aclose()


async def test_a_full_claim_withdraws_the_offer_and_returns_a_handed_job_not_yet_seen(redis: Redis) -> None:
    claimer = await _offering_claimer(redis, "w1")
    pubsub = await _listen(redis, handoff_channel("w1"))  # listening, but the message is never read
    (jid,) = await _push(redis, [EnqueueRequest(NOOP, {})])
    jobs, _next = await claimer.claim(1, offer=True)
    assert [job.job_id for job in jobs] == [jid], "the handed job comes with the claim's reply"
    assert claimer.offer_open is False, "its slot went to the handed job: no new offer"
    assert not await redis.hexists(HANDED_OFFERS, "w1")
    [(_channel, data)] = await _messages(pubsub)
    assert claimer.accept_handoff(data) is None, "the late message does not start it again"
    jobs, _next = await claimer.claim(1, offer=True)
    assert jobs == []
    assert claimer.offer_open
    await pubsub.aclose()


async def test_a_handed_job_already_seen_is_not_returned_and_its_slot_is_not_taken(redis: Redis) -> None:
    claimer = await _offering_claimer(redis, "w1")
    pubsub = await _listen(redis, handoff_channel("w1"))
    (jid,) = await _push(redis, [EnqueueRequest(NOOP, {})])
    [(_channel, data)] = await _messages(pubsub)
    assert claimer.accept_handoff(data) is not None
    (other,) = await _push(redis, [EnqueueRequest(NOOP, {})])  # no offer open: stays due
    jobs, _next = await claimer.claim(1, offer=True)
    assert [job.job_id for job in jobs] == [other]
    assert jid != other
    await pubsub.aclose()


async def test_withdrawing_closes_the_offer_everywhere(redis: Redis) -> None:
    claimer = JobClaimer(redis, [QUEUE, "stats_cache"], "w1", lease_ms=5_000)
    await claimer.claim(2, offer=True)
    assert claimer.offer_open
    assert await redis.zscore(offering_key("stats_cache"), "w1") is not None
    assert await claimer.withdraw_offer() == []
    assert not claimer.offer_open
    assert not await redis.hexists(OFFERS, "w1")
    assert await redis.zcard(offering_key(QUEUE)) == 0
    assert await redis.zcard(offering_key("stats_cache")) == 0


async def test_concurrent_single_enqueues_hand_each_job_to_one_worker_at_most_once(redis: Redis) -> None:
    """Ten offering workers, forty single enqueues at once: every job is either handed to exactly one
    worker (its lease names it) or left due; no worker gets more than its one offered slot."""
    claimers = [await _offering_claimer(redis, f"w{i}") for i in range(10)]
    pubsub = await _listen(redis, *(handoff_channel(c._worker_id) for c in claimers))
    ids = [jid for batch in await asyncio.gather(*(_push(redis, [EnqueueRequest(NOOP, {})]) for _ in range(40)))
           for jid in batch]
    messages = await _messages(pubsub)
    handed = [parse_handoff(data) for _channel, data in messages]
    assert len(handed) == 10
    assert sorted({h.job_id for h in handed}) == sorted(h.job_id for h in handed)
    assert sorted(channel for channel, _ in messages) == sorted(handoff_channel(f"w{i}") for i in range(10))
    for channel, data in messages:
        assert await redis.get(in_progress_key(parse_handoff(data).job_id)) == channel.rsplit(":", 1)[1].encode()
    due = await redis.zrangebyscore(queue_key(QUEUE), "-inf", now_ms())
    assert len(due) == 30
    assert {d.decode() for d in due} | {h.job_id for h in handed} == set(ids)
    await pubsub.aclose()
