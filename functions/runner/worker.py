"""The group worker: serves every queue of a group (or one queue) under one shared concurrency limit.

- Claims only into free slots (the seed's prefetch-multiplier=1), round-robin across queues. The
  concurrency limit counts running FUNCTIONS: a slot is free again as soon as its function ends,
  while the job's ending waits in the recorder (still leased in Redis, its lease still renewed)
  until its ledger batch is committed and finished in Redis. Jobs held that way are bounded
  (``held_limit``): at the bound the worker claims nothing and the recorder flushes at once, so a
  database outage cannot make it claim without end.
- Learns of new work from a Redis pub/sub wake-up published on enqueue; polling is only the fallback.
  When its last full claim left no due job behind and the wake-up names the new jobs
  (core.queues.wake), it takes exactly those in one step (``JobClaimer.claim_named``); any other
  reason to look (a slot freed, a timer, a re-queued job, a big batch) runs the fair full claim.
- Records every attempt in the run ledger through the batched recorder before a job leaves Redis.
- Heartbeats, renews in-progress leases, honours cancel requests and re-reads tuning while running.
- On stop: claims nothing more, lets running jobs finish within the grace period, re-queues the rest.
- Rides out Redis and database outages: every helper task (claim loop, ledger flusher, wake-up
  listener, heartbeat, tuning) runs under one Supervisor (functions.runner.supervision), endings wait
  in the recorder until the ledger and Redis take them, and the worker stops only when asked to or
  when a helper keeps failing unexpectedly (then ``WorkerStats.failure`` is set: exit code 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from arq.jobs import deserialize_job_raw
from redis.exceptions import RedisError

from core.clock import utcnow
from core.errors import LedgerError
from core.ledger.recorder import AttemptRecord, LedgerRecorder
from core.queues.catalog import FUNCTIONS, queue
from core.queues.keys import TUNING_CHANNEL, handoff_channel, wake_channel
from core.queues.serialization import decode_job
from core.queues.wake import named_jobs
from core.resources import Resources
from functions.registry import JobFunction
from functions.runner.claim import ClaimedJob, JobClaimer, RedisFinish
from functions.runner.context import JobContext
from functions.runner.heartbeat import Heartbeat, new_worker_id
from functions.runner.outcome import Ending, apply_ending
from functions.runner.subscriber import subscribe
from functions.runner.supervision import DATABASE, REDIS, Outages, Supervisor
from functions.runner.tuning import ConcurrencySource

__all__ = ["ENDINGS_IN_FLIGHT_MIN", "GroupWorker", "WorkerStats", "held_limit"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_FALLBACK_POLL_S = 0.2  # claim interval while the wake-up listener is reconnecting
_NAMED_HELD_MAX = 64  # named jobs remembered while no slot is free; past that a full claim finds them
_LAST_WRITE_S = 2.0  # at shutdown, how long endings may still wait for the ledger and Redis
_WITHDRAW_S = 0.5  # at shutdown, how long withdrawing the hand-off offer may take (it is one script call)
# Endings that may wait for the ledger beyond the running functions: max(limit, this). Enough for a
# small group to keep its slot busy during one flush (commit + Redis finish), small enough that an
# outage leaves few jobs leased.
ENDINGS_IN_FLIGHT_MIN = 32


@dataclass(slots=True)
class WorkerStats:
    started: int = 0
    succeeded: int = 0
    retried: int = 0
    failed: int = 0
    failure: str | None = None  # set when a helper task failed for good: the process exits non-zero


def held_limit(limit: int) -> int:
    """Jobs one worker may hold at once (running functions + endings waiting for the ledger)."""
    return limit + max(limit, ENDINGS_IN_FLIGHT_MIN)


class GroupWorker:
    """One worker process's job loop (see the module docstring)."""

    def __init__(self, resources: Resources, *, group: str, queues: list[str],
                 implementations: Mapping[str, JobFunction], concurrency: ConcurrencySource,
                 burst: bool = False, name: str | None = None) -> None:
        settings = resources.settings
        self.resources = resources
        self.group = group
        self.queues = queues
        self.worker_id = new_worker_id(name or group)
        self.stats = WorkerStats()
        self._impls = implementations
        self._concurrency = concurrency
        self._burst = burst
        self._limit = 1
        self._running: dict[str, asyncio.Task[None]] = {}
        self._inner: dict[str, asyncio.Task[Any]] = {}
        self._aborting: set[str] = set()
        self._interrupting: set[str] = set()
        self._awaiting_ledger = 0  # running jobs whose function has ended (their ending waits for the flush)
        self._wake = asyncio.Event()
        # why the claim loop should look: jobs named by wake-ups (taken in one step while ``_drained``),
        # or a reason for a full claim; ``_drained``: the last full claim left no due job behind
        self._named: list[tuple[str, str]] = []
        self._full_claim = True
        self._drained = False
        self._tuning_changed = asyncio.Event()
        self._stopping = False
        self._listening = False
        self._claim_busy_since: float | None = None
        self._stall_reported = False
        self._outages = Outages(self.worker_id)
        self._supervisor = Supervisor(self._outages, self._helper_failed)
        # The claim loop is one task making one call at a time: a connection of its own (taken from
        # the shared pool on first use, given back at shutdown) skips the pool's per-command checkout
        # and stale-data probe: a one-step claim 10 ms after the previous one took 0.154-0.160 ms at
        # p50 instead of 0.173-0.176 (p99 0.51-0.52 instead of 0.57-0.76), on the pickup path.
        self._claim_redis = resources.redis.client()
        self._claimer = JobClaimer(resources.redis, queues, self.worker_id,
                                   lease_ms=int(settings.job_lease_seconds * 1000), claim_redis=self._claim_redis,
                                   offer_ttl_ms=int(settings.heartbeat_ttl_seconds * 1000))
        self._recorder = LedgerRecorder(settings.resolved_database_url, settings.ledger_flush_interval_ms / 1000,
                                        self._after_commit, executing=self._flush_can_wait,
                                        engine=lambda: resources.engine)
        self._heartbeat = Heartbeat(self.worker_id, group, queues, settings.heartbeat_ttl_seconds)
        self.busy_listener: Callable[[bool], None] | None = None  # told when the first job starts / last ends

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def running_ids(self) -> list[str]:
        return list(self._running)

    def request_stop(self) -> None:
        """Stop claiming; ``run`` then drains within the grace period and returns."""
        self._stopping = True
        self._wake.set()

    def _look(self) -> None:
        """Wake the claim loop for a full claim (a slot freed, a timer, new work not named)."""
        self._full_claim = True
        self._wake.set()

    def _helper_failed(self, name: str, exc: BaseException) -> None:
        """Escalation from the supervisor: a helper keeps failing, so the worker drains and exits non-zero."""
        if self.stats.failure is None:
            self.stats.failure = f"{name}: {type(exc).__name__}: {exc}"
        self.request_stop()

    def _executing(self) -> int:
        """Running functions: what the concurrency limit counts."""
        return len(self._running) - self._awaiting_ledger

    def _free_slots(self) -> int:
        """Jobs the claim loop may take now: free slots, unless the held bound is reached or a ledger
        write is stuck (then the heartbeat stops renewing leases, see ``_stall``, and a claim could
        meet this worker's own expired jobs again)."""
        if self._recorder.busy_for() > self.resources.settings.heartbeat_ttl_seconds:
            return 0
        return min(self._limit - self._executing(), held_limit(self._limit) - len(self._running))

    def _flush_can_wait(self) -> int:
        """For the recorder's batching: the running functions whose endings a batch may wait for (0 when
        none runs), or -1 (write at once) when the held bound stops the claim loop."""
        if len(self._running) >= held_limit(self._limit):
            return -1
        return self._executing()

    async def run(self) -> WorkerStats:
        self._limit = await self._concurrency.current()
        spawn = self._supervisor.spawn
        spawn("ledger-flusher", self._recorder.run)
        spawn("wake-listener", self._listen)
        spawn("heartbeat", self._heartbeat_loop)
        if not self._concurrency.is_fixed:
            spawn("tuning", self._tuning_loop)
        claim_loop = spawn("claim-loop", self._claim_loop)
        log.info("worker %s serving %s with %d slots", self.worker_id, ", ".join(self.queues), self._limit)
        try:
            await claim_loop
            await self._withdraw_offer()
            await self._drain()
        finally:
            await self._shutdown()
        log.info("worker %s stopped: %s", self.worker_id, self.stats)
        return self.stats

    async def _claim_loop(self) -> None:
        poll = self.resources.settings.poll_delay_seconds
        next_due: int | None = None
        while not self._stopping:
            self._wake.clear()
            capacity = self._free_slots()
            free = capacity - int(self._claimer.offer_open)  # an open hand-off offer holds one slot back
            if free > 0 and self._named and self._drained and not self._full_claim:
                await self._claim_named(free)
            elif capacity > 0:
                # a full claim withdraws the offer (its slot is wanted again) and, when it leaves the
                # queues drained, opens a new one while the hand-off channel is listened to
                self._full_claim = False
                self._named.clear()  # the full claim finds them, in the fair order
                jobs, next_due = await self._claiming(self._claimer.claim(capacity, offer=self._listening))
                self._drained = len(jobs) < capacity
                for job in jobs:
                    self._start(job)
                if jobs and len(jobs) == capacity:
                    continue
                if self._burst and not jobs and not self._running and await self._queues_empty():
                    return
            # without the wake-up listener (pub/sub reconnecting) new work is found by polling
            timeout = poll if self._listening else min(poll, _FALLBACK_POLL_S)
            if next_due is not None and self._free_slots() > 0:  # a full worker waits for a slot, not the timer
                timeout = min(timeout, max(0.0, next_due / 1000 - time.time()))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                self._full_claim = True

    async def _claim_named(self, free: int) -> None:
        """Take the jobs the wake-ups named (at most ``free``; more than that asks for a full claim)."""
        named, rest = self._named[:free], self._named[free:]
        self._named = []
        if rest:
            self._full_claim = True
        for job in await self._claiming(self._claimer.claim_named(named)):
            self._start(job)

    async def _claiming(self, claim: Awaitable[_T]) -> _T:
        """Await one claim call, timed for the stall check (``_stall``); its success means Redis is up."""
        self._claim_busy_since = time.monotonic()
        try:
            result = await claim
        finally:
            self._claim_busy_since = None
        self._outages.recovered(REDIS)
        return result

    async def _queues_empty(self) -> bool:
        async with self.resources.redis.pipeline(transaction=False) as pipe:
            for name in self.queues:
                pipe.zcard(queue(name).redis_key)
            counts = await pipe.execute()
        return bool(sum(counts) == 0)

    def _start(self, job: ClaimedJob) -> None:
        """Run ``job``. Its function's task is created right here, in the caller's turn of the event
        loop (for a handed job: the subscription's read callback), so the function's first step runs
        in the very next turn; the task that waits for it and records the ending is created after it."""
        self.stats.started += 1
        start_ms = int(time.time() * 1000)
        record = AttemptRecord(job.job_id, job.attempt, self.worker_id, utcnow())
        spec, end, inner = self._launch(job, start_ms)
        if inner is not None:
            self._inner[job.job_id] = inner
            # after the function's task, so its first step runs before the ledger flusher wakes up for
            # the start (that would delay the job)
            self._recorder.started(record)
        task = asyncio.create_task(self._execute(job, record, spec, end, inner), name=f"job-{job.job_id}")
        if not self._running and self.busy_listener:
            self.busy_listener(True)
        self._running[job.job_id] = task
        task.add_done_callback(lambda _t, jid=job.job_id: self._job_done(jid))

    def _launch(self, job: ClaimedJob, start_ms: int) -> tuple[Any, Ending, asyncio.Task[Any] | None]:
        """The job's catalog entry, its ending so far, and its function's task when it may run (None:
        an unreadable payload, an unknown function, an abort or no tries left; ``end`` says which)."""
        try:
            function, _args, kwargs, _try, enqueue_ms = deserialize_job_raw(job.payload, deserializer=decode_job)
        except Exception as exc:  # unreadable or expired payload: nothing can ever run it
            reason = exc.__cause__ or exc  # the codec's PayloadError says why (e.g. "not JSON")
            return None, Ending("<unknown>", {}, start_ms, start_ms,
                                error=_permanent(f"job payload unreadable: {reason}")), None
        spec = FUNCTIONS.get(function)
        end = Ending(function, kwargs, enqueue_ms, start_ms)
        impl = self._impls.get(function)
        if job.aborted:
            end.cancelled = True
        elif spec is None or impl is None or spec.queue != job.queue:
            end.error = _permanent(f"function {function!r} is not served on queue {job.queue!r}")
        elif job.attempt > spec.retry.max_attempts:
            end.error = RuntimeError(f"max attempts ({spec.retry.max_attempts}) exceeded")
        else:
            try:
                ctx = JobContext(self.resources, job.job_id, spec, job.attempt, self.worker_id)
                return spec, end, asyncio.create_task(impl(ctx, **kwargs))
            except TypeError as exc:  # arguments the function does not take: no later try can differ
                end.error = _permanent(f"function {function!r} cannot take these arguments: {exc}")
        return spec, end, None

    def _job_done(self, job_id: str) -> None:
        self._running.pop(job_id, None)
        inner = self._inner.pop(job_id, None)
        if inner is not None and not inner.done():  # its waiter was cancelled before it began to wait
            inner.cancel()
        if not self._running and self.busy_listener:
            self.busy_listener(False)
        self._look()

    async def _execute(self, job: ClaimedJob, record: AttemptRecord, spec: Any, end: Ending,
                       inner: asyncio.Task[Any] | None) -> None:
        if inner is not None:
            await self._wait_for(job, spec.timeout_s, inner, end)
        await self._finish(record, job, spec, end)

    async def _wait_for(self, job: ClaimedJob, timeout_s: float, inner: asyncio.Task[Any], end: Ending) -> None:
        try:
            async with asyncio.timeout(timeout_s):  # cheaper than wait_for: no extra future per job
                end.result = await inner  # cancelling this task (the timeout) cancels ``inner``
            self.stats.succeeded += 1
        except asyncio.CancelledError:
            if job.job_id in self._aborting:
                end.cancelled = True
            elif job.job_id in self._interrupting:
                end.interrupted = True
            else:
                raise
        except TimeoutError:
            end.error = TimeoutError(f"timed out after {timeout_s:g} s")
        except Exception as exc:
            end.error = exc
            log.warning("job %s (%s) attempt %d failed: %s: %s", job.job_id, end.function, job.attempt,
                        type(exc).__name__, exc)
        finally:
            self._inner.pop(job.job_id, None)

    async def _finish(self, record: AttemptRecord, job: ClaimedJob, spec: Any, end: Ending) -> None:
        apply_ending(record, job, spec, end, self.resources.settings.keep_result_seconds)
        if end.error is not None:
            if record.after is not None and not record.after.terminal:
                self.stats.retried += 1
            else:
                self.stats.failed += 1
        self._awaiting_ledger += 1
        self._look()  # the function has ended: its slot is free while the ending waits for the ledger
        try:
            await self._recorder.finished(record)
        except LedgerError:
            pass  # abandoned at shutdown during an outage: the drain logs how many, the lease brings it back
        finally:
            self._awaiting_ledger -= 1

    async def _after_commit(self, finishes: list[RedisFinish]) -> None:
        self._outages.recovered(DATABASE)
        await self._claimer.finish(finishes)
        self._outages.recovered(REDIS)
        requeued = {f.queue_key.removeprefix("arq:queue:")
                    for f in finishes if not f.terminal and f.retry_at_ms is None}
        for name in requeued:
            await self.resources.redis.publish(wake_channel(name), 1)

    async def _withdraw_offer(self) -> None:
        """On stop: close the hand-off offer; a job handed to this worker that it has not seen yet is
        started (the drain lets it finish). Redis down: the offer expires by itself and such a job
        is claimed again when its lease runs out, as after a crash."""
        if not self._claimer.has_offer or REDIS in self._outages.down:
            return
        try:
            jobs = await asyncio.wait_for(self._claimer.withdraw_offer(), _WITHDRAW_S)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("worker %s could not withdraw its hand-off offer (%s: %s); it expires by itself",
                        self.worker_id, type(exc).__name__, exc)
            return
        for job in jobs:
            self._start(job)

    async def _listen(self) -> None:
        """Wake-ups, handed jobs and tuning changes from pub/sub; restarted (resubscribing) after a
        disconnect. Each message is handled in the callback that read it (functions.runner.subscriber)."""
        queue_of = {wake_channel(q).encode(): q for q in self.queues}
        handoff = handoff_channel(self.worker_id).encode()

        def on_message(channel: bytes, data: bytes) -> None:
            if channel == handoff:  # a job claimed for us; started even when stopping: every hand-off
                # reaches us before the drain begins (the drain waits for the offer's withdrawal)
                job = self._claimer.accept_handoff(data)
                if job is not None:
                    self._start(job)
                return
            name = queue_of.get(channel)
            if name is None:
                self._tuning_changed.set()
                return
            ids = named_jobs(data)
            if ids is None:
                self._look()
            elif len(self._named) + len(ids) > _NAMED_HELD_MAX:  # busy for long: forget names, claim fully
                self._named.clear()
                self._look()
            else:
                self._named += [(name, job_id) for job_id in ids]
                self._wake.set()

        subscription = await subscribe(self.resources.redis, [TUNING_CHANNEL.encode(), handoff, *queue_of],
                                       on_message)
        try:
            self._listening = True
            self._look()  # wake-ups published while we were not listening are lost: look once now
            await subscription.wait_closed()
        finally:
            self._listening = False
            subscription.close()

    async def _heartbeat_loop(self) -> None:
        """Beat, renew leases and read cancel requests while the worker can make progress; a worker
        whose claim loop or ledger flusher is stuck stops beating, so its leases run out."""
        interval = self.resources.settings.heartbeat_interval_seconds
        while True:
            stall = self._stall()
            if stall is None:
                self._stall_reported = False
                running = list(self._running)
                state = "degraded: " + ", ".join(self._outages.down) + " unavailable" if self._outages.down else "ok"
                await self._heartbeat.beat(self.resources.redis, self._limit, running, state)
                await self._claimer.renew_leases(running)
                for job_id in await self._claimer.abort_requests(running):
                    self._cancel_inner(job_id, self._aborting)
                self._outages.recovered(REDIS)
            elif not self._stall_reported:
                self._stall_reported = True
                log.error("worker %s cannot make progress (%s): heartbeat and lease renewal withheld",
                          self.worker_id, stall)
            await asyncio.sleep(interval)

    def _stall(self) -> str | None:
        """Why this worker cannot make progress right now, or None when its loops are alive."""
        limit = self.resources.settings.heartbeat_ttl_seconds
        dead = [name for name in self._supervisor.dead() if not self._stopping or name != "claim-loop"]
        if dead:
            return "helper ended: " + ", ".join(dead)
        if self._claim_busy_since is not None and time.monotonic() - self._claim_busy_since > limit:
            return f"a claim has been waiting for more than {limit:g} s"
        if self._recorder.busy_for() > limit:
            return f"a ledger flush has been waiting for more than {limit:g} s"
        return None

    async def _tuning_loop(self) -> None:
        refresh = self.resources.settings.tuning_refresh_seconds
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tuning_changed.wait(), refresh)
            self._tuning_changed.clear()
            new = await self._concurrency.current()
            self._outages.recovered(DATABASE)
            if new != self._limit:
                log.info("concurrency of %s: %d -> %d", self.group, self._limit, new)
                self._limit = new
                self._look()

    def _cancel_inner(self, job_id: str, reason: set[str]) -> None:
        inner = self._inner.get(job_id)
        if inner is not None and not inner.done():
            reason.add(job_id)
            inner.cancel()

    async def _drain(self) -> None:
        """Within the grace period: let running jobs end, interrupt (re-queue) the rest in time for their
        endings to be recorded, and abandon endings that cannot be (an outage): those jobs stay leased
        in Redis and run again when the lease expires."""
        if not self._running:
            return
        grace = self.resources.settings.shutdown_grace_seconds
        deadline = time.monotonic() + grace
        reserve = min(_LAST_WRITE_S, grace / 3)  # kept for writing the endings of interrupted jobs
        _done, pending = await asyncio.wait(list(self._running.values()), timeout=grace - reserve)
        if not pending:
            return
        log.warning("grace period over: re-queueing %d running job(s)", len(pending))
        for job_id in list(self._running):
            self._cancel_inner(job_id, self._interrupting)
        _done, pending = await asyncio.wait(pending, timeout=max(0.0, deadline - time.monotonic()))
        if pending:
            dropped = self._recorder.abandon("worker stopped before the ending could be recorded")
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            log.error("%d job ending(s) not recorded (%s); their jobs run again when the lease expires",
                      dropped, ", ".join(self._outages.down) + " unavailable" if self._outages.down else "stuck")

    async def _shutdown(self) -> None:
        """Write what is left, stop every helper and remove the heartbeat, each step time-bounded."""
        self._recorder.request_close()
        flusher = self._supervisor.task("ledger-flusher")
        if flusher is not None and self._recorder.pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(flusher), _LAST_WRITE_S)
        self._recorder.abandon("worker stopped")
        await self._recorder.release()
        await self._supervisor.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._heartbeat.remove(self.resources.redis), 0.5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._claim_redis.aclose(), 0.5)


def _permanent(message: str) -> Exception:
    from core.errors import PermanentJobError

    return PermanentJobError(message)
