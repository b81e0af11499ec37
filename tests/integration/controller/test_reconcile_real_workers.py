"""Reconciliation next to real ``integramon worker --group periodic`` processes: a SIGKILLed worker's
running row is recovered (and its job runs again), a slow but alive worker's row is left alone."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis as redis_sync
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controller.health import WorkerHealthWatch
from core.db.models.controller import WorkerProcess
from core.db.models.ledger import WorkerJobAttempt, WorkerJobRun
from core.ledger.reconcile import ReconcileReport, reconcile
from core.queues.catalog import function
from core.queues.keys import worker_key
from core.resources import open_resources
from core.settings import Settings
from tests.processes import integramon, running, wait_until


def _enqueue_sleep(settings: Settings, seconds: float) -> str:
    async def go() -> str | None:
        async with open_resources(settings) as res:
            return await res.enqueuer.enqueue(function("sleep"), {"seconds": seconds})

    job_id = asyncio.run(go())
    assert job_id is not None
    return job_id


def _reconcile(settings: Settings, stale_after: timedelta) -> ReconcileReport:
    async def go() -> ReconcileReport:
        async with open_resources(settings) as res:
            return await reconcile(res.sessions, res.redis, stale_after=stale_after)

    return asyncio.run(go())


def _watch_workers(settings: Settings) -> Any:
    async def go() -> Any:
        async with open_resources(settings) as res:
            return await WorkerHealthWatch(res.sessions, res.redis).tick()

    return asyncio.run(go())


def _run(db: sessionmaker[Session], job_id: str) -> WorkerJobRun:
    with db() as session:
        return session.execute(select(WorkerJobRun).where(WorkerJobRun.arq_job_id == job_id)).scalar_one()


def test_running_row_of_a_sigkilled_worker_is_requeued_then_runs_again(
    settings: Settings, db: sessionmaker[Session], redis_url: str, tmp_path: Path
) -> None:
    r = redis_sync.Redis.from_url(redis_url)
    job = _enqueue_sleep(settings, 4.0)
    worker = integramon(settings, "worker", "--group", "periodic", log=tmp_path / "a.log")
    try:
        wait_until(lambda: _run(db, job).status == "running", what="the job to run")
        worker_id = _run(db, job).worker_id
        assert worker_id is not None
        assert worker_id in _watch_workers(settings).live
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    wait_until(
        lambda: not r.exists(worker_key(worker_id), f"arq:in-progress:{job}"),
        timeout=15,
        what="heartbeat and lease to expire",
    )
    assert _watch_workers(settings).gone == [worker_id]

    report = _reconcile(settings, timedelta(minutes=45))

    assert report.retrying == 1
    row = _run(db, job)
    assert row.status == "retrying"
    assert row.reconcile_meta is not None
    assert row.reconcile_meta["reason"] == "worker_lost_requeued"
    assert row.reconcile_meta["previous_status"] == "running"
    with db() as session:
        last_seen = session.get_one(WorkerProcess, worker_id).last_seen
        lost = session.execute(select(WorkerJobAttempt.status).where(WorkerJobAttempt.arq_job_id == job)).scalar()
    assert row.reconcile_meta["last_heartbeat_seen"] == last_seen.isoformat()
    assert lost == "lost"
    assert _reconcile(settings, timedelta(minutes=45)).retrying == 0  # idempotent

    with running(settings, "worker", "--group", "periodic", log=tmp_path / "b.log"):
        wait_until(lambda: _run(db, job).status == "succeeded", timeout=40, what="the job to run again")
    assert _run(db, job).attempt == 2


def test_slow_job_of_a_live_worker_is_left_alone(settings: Settings, db: sessionmaker[Session], tmp_path: Path) -> None:
    lease = settings.job_lease_seconds
    job = _enqueue_sleep(settings, lease * 2 + 1)
    # A generous heartbeat TTL: on a busy machine a live worker must not look dead; the lease stays short.
    with running(settings, "worker", "--group", "periodic", log=tmp_path / "w.log",
                 INTEGRAMON_HEARTBEAT_TTL_SECONDS="8"):
        wait_until(lambda: _run(db, job).status == "running", what="the job to run")
        time.sleep(lease + 0.5)  # longer than one job lease: only the heartbeat keeps it alive

        report = _reconcile(settings, timedelta(0))  # even with no stale timeout at all

        assert (report.skipped, report.retrying) == (0, 0)
        assert _run(db, job).status == "running"
        wait_until(lambda: _run(db, job).status == "succeeded", timeout=30, what="the slow job to finish")
    row = _run(db, job)
    assert row.attempt == 1
    assert row.reconcile_meta is None
