"""The worker's side of the kernel: claim due jobs from a group's queues, renew their leases,
hear abort requests, and finish them.

Jobs stay in arq's layout (``arq:queue:<name>``, ``arq:job:<id>``, ``arq:in-progress:<id>``,
``arq:retry:<id>``, ``arq:result:<id>``), so arq's ``Job`` API keeps working. A claim is two script
calls (see ``lua/claim_reserve.lua`` and ``lua/claim_lease.lua``):

1. *reserve*: round-robin across the queues (a backlog on one queue cannot starve another), take
   exactly as many due jobs as there are free slots and re-score each to its lease deadline, which
   hides it from every other claimer without looking at any per-job key;
2. *lease*: ``SET NX`` each job's in-progress lease (the exactly-once guarantee), read its payload
   and bump its try counter.

Neither step reads more jobs than it takes or meets another worker's running job, so the cost of a
claim is O(slots x log n) in the backlog n, whatever the number of worker processes.

An idle worker told by the wake-up which jobs were just enqueued (:mod:`core.queues.wake`) takes them
with :meth:`JobClaimer.claim_named` instead: reserve and lease of those jobs in one script call
(``lua/claim_named.lua``), one round trip less between enqueue and job start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from core.queues.handoff import parse_handoff
from core.queues.keys import (
    HANDED_OFFERS,
    OFFERS,
    abort_key,
    handoff_channel,
    in_progress_key,
    job_key,
    offering_key,
    queue_key,
    queue_name_of,
    result_key,
    retry_key,
    running_key,
)
from core.queues.scripts import RETRY_COUNTER_TTL_S, Lua, script

__all__ = ["NEXT_DUE_SCAN", "ClaimedJob", "JobClaimer", "RedisFinish"]

# Deferred jobs looked at per queue to find the next due one past running jobs (whose score is a
# lease deadline); when all of them are running the last deadline is reported: an early wake-up.
NEXT_DUE_SCAN = 8


@dataclass(slots=True)
class ClaimedJob:
    """A job this worker now holds the in-progress lease of."""

    queue: str
    job_id: str
    score: int  # its score before the claim: where a re-queued attempt goes back to
    payload: bytes
    attempt: int
    aborted: bool


@dataclass(slots=True)
class RedisFinish:
    """What to do in Redis when a job attempt ends."""

    queue_key: str
    job_id: str
    terminal: bool
    result: bytes | None = None
    keep_result_ms: int = 0
    retry_at_ms: int | None = None  # re-score for a later retry; None: due again at its claimed score


class JobClaimer:
    """Claims, renews and finishes jobs for a fixed list of queues on behalf of one worker."""

    def __init__(self, redis: Redis, queues: list[str], worker_id: str, lease_ms: int,
                 scan_limit: int | None = None, *, claim_redis: Redis | None = None,
                 offer_ttl_ms: int = 10_000) -> None:
        """``claim_redis``: the client the claim scripts run on (the worker gives its claim loop a
        connection of its own, see ``GroupWorker``); renewals, finishes and abort reads use ``redis``.
        ``offer_ttl_ms``: how long a hand-off offer stays open without the next full claim renewing it."""
        # scan_limit is accepted for callers of the earlier claim script; a claim now reads only
        # the jobs it takes, so there is nothing to limit.
        del scan_limit
        self._redis = redis
        self._queues = list(queues)
        self._worker_id = worker_id
        self._lease_ms = lease_ms
        claims = claim_redis if claim_redis is not None else redis
        self._reserve = script(claims, Lua.CLAIM_RESERVE)
        self._lease = script(claims, Lua.CLAIM_LEASE)
        self._named = script(claims, Lua.CLAIM_NAMED)
        self._finish = script(redis, Lua.FINISH)
        self._renew = script(redis, Lua.RENEW)
        self._rotation = 0
        self._held: dict[str, ClaimedJob] = {}  # job id -> the claim, until it is finished
        # hand-off (core.queues.handoff): generation of the newest offer asked for, and of the newest
        # one whose job was delivered
        self._offer_ttl_ms = offer_ttl_ms
        self._generation = 0
        self._seen = 0
        self._to_withdraw = False  # the previous claim opened an offer: Redis may hold state to withdraw

    @property
    def lease_ms(self) -> int:
        return self._lease_ms

    async def claim(self, want: int, *, offer: bool = False) -> tuple[list[ClaimedJob], int | None]:
        """Up to ``want`` due jobs, and the score (ms) of the next deferred job when fewer were found.

        Withdraws this worker's open hand-off offer first (its slot belongs in ``want``), and among the
        jobs returns one handed to this worker that it has not seen yet; with ``offer``, a claim that
        leaves the queues drained opens a new offer of one slot (``offer_open`` says whether it is)."""
        if want < 0:
            return [], None
        n = len(self._queues)
        start = self._rotation % n
        self._rotation += 1
        names = self._queues[start:] + self._queues[:start]
        now_ms = int(time.time() * 1000)
        generation = 0
        if offer and want > 0:
            self._generation += 1
            generation = self._generation
        raw: list[Any] = await self._reserve(
            keys=[queue_key(q) for q in names] + [running_key(q) for q in names] + [OFFERS, HANDED_OFFERS]
            + [offering_key(q) for q in names],
            args=[now_ms, now_ms + self._lease_ms, want, NEXT_DUE_SCAN, f"({now_ms - self._lease_ms}",
                  self._worker_id, self._seen,
                  f"{generation}:{self._lease_ms}:{handoff_channel(self._worker_id)}" if generation else "",
                  now_ms + self._offer_ttl_ms, int(self._to_withdraw)])
        self._to_withdraw = bool(int(raw[1]))
        jobs: list[ClaimedJob] = []
        if raw[2]:
            handed = self.accept_handoff(raw[2])
            if handed is not None:
                jobs.append(handed)
        nxt = int(float(raw[0]))
        reserved = [(names[int(raw[i]) - 1], _text(raw[i + 1]), int(float(raw[i + 2]))) for i in range(3, len(raw), 3)]
        if reserved:
            jobs += await self._take_leases(reserved, now_ms)
        return jobs, (nxt if nxt >= 0 and len(jobs) < want else None)

    @property
    def offer_open(self) -> bool:
        """An offer opened by the last claim whose job has not arrived: its slot is held for a hand-off."""
        return self._to_withdraw and self._seen < self._generation

    @property
    def has_offer(self) -> bool:
        """Whether Redis may hold an offer of this worker's, or a handed job it has not withdrawn."""
        return self._to_withdraw

    async def withdraw_offer(self) -> list[ClaimedJob]:
        """Close this worker's hand-off offer (a worker about to stop); returns the job handed to it
        that it has not seen yet, if any: leased to this worker, it must be run or given back."""
        jobs, _next = await self.claim(0)
        return jobs

    def accept_handoff(self, message: bytes | str) -> ClaimedJob | None:
        """The job of a hand-off message the first time its generation is seen, else None (it was
        delivered already, by the message or by a claim's reply)."""
        handed = parse_handoff(message)
        if handed.generation <= self._seen:
            return None
        self._seen = handed.generation
        return self._hold(ClaimedJob(handed.queue, handed.job_id, handed.score, handed.payload, handed.attempt,
                                     handed.aborted))

    async def claim_named(self, named: list[tuple[str, str]]) -> list[ClaimedJob]:
        """Take the named (queue, job id) jobs that are still due, in one step; the others are left to
        whoever holds them or to a later full claim."""
        if not named:
            return []
        keys = [abort_key()]
        for name, jid in named:
            keys += [queue_key(name), running_key(name), in_progress_key(jid), job_key(jid), retry_key(jid)]
        raw: list[Any] = await self._named(
            keys=keys, args=[self._worker_id, self._lease_ms, int(time.time() * 1000), RETRY_COUNTER_TTL_S,
                             *(jid for _, jid in named)])
        jobs: list[ClaimedJob] = []
        for i, (name, jid) in enumerate(named):
            taken, payload, attempt, aborted, score = raw[5 * i:5 * i + 5]
            if int(taken):
                jobs.append(self._hold(ClaimedJob(name, jid, int(float(score)), payload or b"", int(attempt),
                                                  bool(int(aborted)))))
        return jobs

    async def _take_leases(self, reserved: list[tuple[str, str, int]], now_ms: int) -> list[ClaimedJob]:
        keys = [abort_key()]
        for name, jid, _score in reserved:
            keys += [in_progress_key(jid), job_key(jid), retry_key(jid), queue_key(name), running_key(name)]
        raw: list[Any] = await self._lease(
            keys=keys, args=[self._worker_id, self._lease_ms, now_ms, RETRY_COUNTER_TTL_S,
                             *(jid for _, jid, _ in reserved)])
        jobs: list[ClaimedJob] = []
        for i, (name, jid, score) in enumerate(reserved):
            taken, payload, attempt, aborted = raw[4 * i:4 * i + 4]
            if int(taken):
                jobs.append(self._hold(ClaimedJob(name, jid, score, payload or b"", int(attempt), bool(int(aborted)))))
        return jobs

    def _hold(self, job: ClaimedJob) -> ClaimedJob:
        """Remember a job this worker now leases (until it is finished)."""
        self._held[job.job_id] = job
        return job

    async def finish(self, items: list[RedisFinish]) -> None:
        """Apply a batch of finishes in one script call (atomic per batch)."""
        if not items:
            return
        keys = [abort_key()]
        args: list[Any] = [self._worker_id]
        for item in items:
            jid = item.job_id
            name = queue_name_of(item.queue_key)
            keys += [item.queue_key, running_key(name), in_progress_key(jid), retry_key(jid), job_key(jid),
                     result_key(jid)]
            if item.terminal:
                keep = item.keep_result_ms if item.result is not None else 0
                args += [jid, "t", keep, item.result or b""]
            else:
                held = self._held.get(jid)
                score = item.retry_at_ms if item.retry_at_ms is not None else (
                    held.score if held is not None else int(time.time() * 1000))
                args += [jid, "r", score, b""]
        await self._finish(keys=keys, args=args)
        for item in items:
            self._held.pop(item.job_id, None)

    async def renew_leases(self, job_ids: list[str]) -> list[str]:
        """Extend the lease of every running job (called by the heartbeat); returns the ids whose lease
        this worker no longer holds."""
        known = [self._held[j] for j in job_ids if j in self._held]
        if not known:
            return []
        keys: list[str] = []
        for job in known:
            keys += [in_progress_key(job.job_id), queue_key(job.queue), running_key(job.queue)]
        lost: list[Any] = await self._renew(
            keys=keys, args=[self._worker_id, self._lease_ms, int(time.time() * 1000), *(j.job_id for j in known)])
        return [_text(x) for x in lost]

    async def abort_requests(self, running: list[str]) -> list[str]:
        """Running job ids somebody asked to cancel (arq's abort set); removes them from the set."""
        if not running:
            return []
        scores = await self._redis.zmscore(abort_key(), running)
        wanted = [jid for jid, score in zip(running, scores, strict=True) if score is not None]
        if wanted:
            await self._redis.zrem(abort_key(), *wanted)
        return wanted


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
