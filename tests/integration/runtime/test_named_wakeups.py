"""An idle worker takes the jobs a wake-up names in one step; a busy one claims fully and fairly.

Real worker runtime in this process (so the claims it makes can be counted), real Redis and ledger.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from core.queues.catalog import function
from core.queues.enqueue import EnqueueRequest
from core.queues.keys import abort_key
from core.resources import open_resources
from core.settings import Settings
from functions.runner.tuning import ConcurrencySource
from functions.runner.worker import GroupWorker
from functions.selftest import JOBS


async def _until(check: Any, what: str, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_an_idle_worker_is_handed_single_jobs_takes_named_ones_in_one_step_and_a_backlog_by_full_claims(
        settings: Settings) -> None:
    """Idle, the worker has a hand-off offer open (one slot): a job enqueued alone is claimed for it by
    the enqueue script; of two enqueued together one is handed over and the other, named in the
    wake-up, taken with the one-step claim in the second slot; a backlog goes through full claims."""
    async with open_resources(settings) as res:
        worker = GroupWorker(res, group="periodic", queues=["periodic_run"], implementations=dict(JOBS),
                             concurrency=ConcurrencySource(res.sessions, "periodic", fixed=2))
        named_taken: list[str] = []
        handed = _record_handoffs(worker)
        real_named = worker._claimer.claim_named

        async def counting(named: list[tuple[str, str]]) -> Any:
            jobs = await real_named(named)
            named_taken.extend(job.job_id for job in jobs)
            return jobs

        worker._claimer.claim_named = counting  # type: ignore[method-assign]
        task = asyncio.create_task(worker.run())
        noop = function("noop")
        try:
            await _until(lambda: _offering(worker), "the worker to open a hand-off offer")
            singles: list[str] = []
            for _ in range(3):  # one at a time, the worker idle in between: each is handed over
                job_id = await res.enqueuer.enqueue(noop, {"counter": "runs"})
                assert job_id is not None
                singles.append(job_id)
                await _until(lambda j=job_id: _ran(res, j), f"job {job_id} to run")
                await _until(lambda: _offering(worker), "the offer to open again")
            assert handed == singles
            assert named_taken == []

            handed.clear()
            pair = await res.enqueuer.enqueue_many([EnqueueRequest(noop, {"counter": "runs"}) for _ in range(2)])
            await _until(lambda: _all_ran(res, pair), "the pair to run")
            assert handed == pair[:1]
            assert named_taken == pair[1:]

            handed.clear()
            named_taken.clear()  # a backlog of 20 (more than a wake-up names): full, round-robin claims
            await _until(lambda: _offering(worker), "the offer to open again")
            batch = await res.enqueuer.enqueue_many([EnqueueRequest(noop, {"counter": "runs"}) for _ in range(20)])
            await _until(lambda: _all_ran(res, batch), "the batch to run")
            assert named_taken == []
            assert handed == []
        finally:
            worker.request_stop()
            await asyncio.wait_for(task, 15)
        assert worker.stats.succeeded == 25


async def test_a_handed_job_that_never_runs_does_not_hold_up_the_next_hand_off(settings: Settings) -> None:
    """The listener reads its next message once a handed job's function is scheduled; a handed job
    whose function never runs (an abort asked for before it was enqueued) must release it as well."""
    async with open_resources(settings) as res:
        worker = GroupWorker(res, group="periodic", queues=["periodic_run"], implementations=dict(JOBS),
                             concurrency=ConcurrencySource(res.sessions, "periodic", fixed=1))
        handed = _record_handoffs(worker)
        task = asyncio.create_task(worker.run())
        noop = function("noop")
        try:
            await _until(lambda: _offering(worker), "the worker to open a hand-off offer")
            await res.redis.zadd(abort_key(), {"aborted-early": time.time() * 1000})
            assert await res.enqueuer.enqueue(noop, {"counter": "runs"}, job_id="aborted-early") == "aborted-early"
            await _until(lambda: _offering(worker), "the offer to open again after the aborted job")
            job_id = await res.enqueuer.enqueue(noop, {"counter": "runs"})
            assert job_id is not None
            await _until(lambda: _ran(res, job_id), "the next handed job to run")
            assert handed == ["aborted-early", job_id]
            assert not await _ran(res, "aborted-early")
        finally:
            worker.request_stop()
            await asyncio.wait_for(task, 15)
        assert worker.stats.succeeded == 1


def _record_handoffs(worker: GroupWorker) -> list[str]:
    """The ids of the jobs the worker accepts from hand-off messages, in order (filled as it runs)."""
    handed: list[str] = []
    real_accept = worker._claimer.accept_handoff

    def accepting(message: bytes | str) -> Any:
        job = real_accept(message)
        if job is not None:
            handed.append(job.job_id)
        return job

    worker._claimer.accept_handoff = accepting  # type: ignore[method-assign]
    return handed


async def _offering(worker: GroupWorker) -> bool:
    return worker._listening and worker._claimer.offer_open


async def _listening(worker: GroupWorker) -> bool:
    return worker._listening


async def _ran(res: Any, job_id: str) -> bool:
    return bool(await res.redis.hget("runs", job_id))


async def _all_ran(res: Any, ids: list[str]) -> bool:
    return len(await res.redis.hmget("runs", ids)) == len(ids) and all(await res.redis.hmget("runs", ids))


async def test_a_full_worker_does_not_spin_when_a_deferred_job_falls_due(settings: Settings) -> None:
    """The next-due timer of the last full claim only matters while a slot is free: a one-slot worker
    busy with a long job waits for the slot (the old loop spun at 0 s timeouts, burning a core)."""
    async with open_resources(settings) as res:
        worker = GroupWorker(res, group="periodic", queues=["periodic_run"], implementations=dict(JOBS),
                             concurrency=ConcurrencySource(res.sessions, "periodic", fixed=1))
        task = asyncio.create_task(worker.run())
        try:
            await _until(lambda: _listening(worker), "the worker to serve")
            deferred = await res.enqueuer.enqueue(function("noop"), {"counter": "runs"}, defer_s=0.3)
            await asyncio.sleep(0.1)  # its count wake-up: a full claim finds nothing due, notes when it is
            await res.enqueuer.enqueue(function("sleep"), {"seconds": 1.5, "counter": "runs"})
            await asyncio.sleep(0.5)  # the sleep job holds the only slot; the deferred job is now due
            cpu_before, wall_before = time.process_time(), time.monotonic()
            await asyncio.sleep(0.8)
            cpu = time.process_time() - cpu_before
            wall = time.monotonic() - wall_before
            assert cpu < wall / 2, f"{cpu:.2f} s of CPU in {wall:.2f} s while waiting for the slot"
            assert deferred is not None
            await _until(lambda: _ran(res, deferred), "the deferred job to run once the slot is free")
        finally:
            worker.request_stop()
            await asyncio.wait_for(task, 15)
