"""Shutdown, crash recovery, live tuning and wake-up pickup of real worker processes."""

from __future__ import annotations

import itertools
import json
import os
import signal
import time
from datetime import datetime
from pathlib import Path
from typing import cast

import redis as redis_sync
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.tuning import WorkerTuningSettings
from core.settings import Settings
from tests.integration.runtime.conftest import attempts, enqueue, runs
from tests.processes import integramon, running, wait_until


def _status(db: sessionmaker[Session], job_id: str) -> str:
    return runs(db, arq_job_id=job_id)[0].status


def test_sigterm_finishes_short_jobs_and_requeues_long_ones(
    settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis, tmp_path: Path
) -> None:
    (short,) = enqueue(settings, "sleep", {"seconds": 0.5})
    (long,) = enqueue(settings, "sleep", {"seconds": 60})
    proc = integramon(
        settings,
        "worker",
        "--group",
        "periodic",
        "--concurrency",
        "2",
        log=tmp_path / "w.log",
        INTEGRAMON_SHUTDOWN_GRACE_SECONDS="1.5",
    )
    try:
        wait_until(lambda: _status(db, short) == "running" and _status(db, long) == "running", what="both running")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, (tmp_path / "w.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _status(db, short) == "succeeded"
    run = runs(db, arq_job_id=long)[0]
    assert run.status == "retrying"
    assert run.error_type == "WorkerShutdown"
    assert [a.status for a in attempts(db, long)] == ["interrupted"]
    assert rsync.zscore("arq:queue:periodic_run", long) is not None  # back in its queue
    assert rsync.get(f"arq:in-progress:{long}") is None  # and claimable at once
    assert rsync.get(f"arq:job:{long}") is not None


def test_a_killed_worker_job_runs_again_after_its_lease(
    settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis, tmp_path: Path
) -> None:
    (job,) = enqueue(settings, "sleep", {"seconds": 1.0})
    first = integramon(
        settings, "worker", "--group", "periodic", log=tmp_path / "a.log", INTEGRAMON_JOB_LEASE_SECONDS="2"
    )
    try:
        wait_until(lambda: _status(db, job) == "running", what="first attempt running")
        first_worker = runs(db, arq_job_id=job)[0].worker_id
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert rsync.get(f"arq:in-progress:{job}") is not None  # the dead worker's lease still holds for now
    with running(settings, "worker", "--group", "periodic", log=tmp_path / "b.log", INTEGRAMON_JOB_LEASE_SECONDS="2"):
        wait_until(lambda: _status(db, job) == "succeeded", timeout=30, what="second attempt to succeed")
    run = runs(db, arq_job_id=job)[0]
    assert run.attempt == 2
    assert run.worker_id != first_worker
    tries = attempts(db, job)
    assert [(a.attempt, a.status) for a in tries] == [(1, "lost"), (2, "succeeded")]  # issue 17: not "running" forever
    assert tries[0].worker_id == first_worker


def test_concurrency_follows_the_tuning_table_without_restart(
    settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis, tmp_path: Path
) -> None:
    def beat() -> dict[str, object]:
        ids = rsync.smembers("integramon:workers")
        raw = rsync.get(f"integramon:worker:{next(iter(ids)).decode()}") if ids else None  # type: ignore[arg-type]
        return json.loads(raw) if raw else {}  # type: ignore[arg-type]

    with running(
        settings, "worker", "--group", "light-cold", log=tmp_path / "w.log", INTEGRAMON_TUNING_REFRESH_SECONDS="5"
    ):
        wait_until(lambda: beat().get("concurrency") == 2, what="balanced concurrency 2")
        with db() as session, session.begin():
            session.execute(
                update(WorkerTuningSettings).where(WorkerTuningSettings.id == 1).values(active_profile="safe")
            )
        changed_at = time.monotonic()
        wait_until(lambda: beat().get("concurrency") == 1, timeout=10, what="safe profile within 10 s")
        assert time.monotonic() - changed_at < 10
        with db() as session, session.begin():
            session.execute(
                update(WorkerTuningSettings).where(WorkerTuningSettings.id == 1).values(overrides={"light-cold": 5})
            )
        rsync.publish("integramon:tuning", "{}")  # the admin API publishes on apply: picked up at once
        wait_until(lambda: beat().get("concurrency") == 5, timeout=3, what="override after publish")


def test_an_idle_worker_is_woken_by_enqueue_not_by_polling(
    settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis, tmp_path: Path
) -> None:
    with running(settings, "worker", "--group", "periodic", log=tmp_path / "w.log", INTEGRAMON_POLL_DELAY_SECONDS="30"):
        wait_until(lambda: rsync.smembers("integramon:workers"), what="worker up")
        time.sleep(0.3)  # let it settle into its 30 s wait
        ids = enqueue(settings, "noop", count=3)
        wait_until(
            lambda: all(_status(db, j) == "succeeded" for j in ids),
            timeout=5,
            what="jobs to run long before the 30 s poll",
        )
    for run in runs(db):
        assert run.started_at is not None
        assert (run.started_at - run.enqueued_at).total_seconds() < 2


def test_retries_back_off_then_dead_and_permanent_errors_fail_at_once(
    settings: Settings, db: sessionmaker[Session], tmp_path: Path
) -> None:
    (flaky,) = enqueue(settings, "fail", {"message": "boom"})
    (bad,) = enqueue(settings, "fail", {"permanent": True, "message": "bad input"})
    proc = integramon(settings, "worker", "--group", "periodic", "--burst", log=tmp_path / "w.log")
    assert proc.wait(60) == 0, (tmp_path / "w.log").read_text()
    dead = runs(db, arq_job_id=flaky)[0]
    assert dead.status == "dead"
    assert dead.attempt == dead.max_attempts == 3
    assert dead.error_message == "boom"
    tries = attempts(db, flaky)
    assert [a.status for a in tries] == ["failed", "failed", "failed"]
    gaps = [(b.started_at - cast(datetime, a.finished_at)).total_seconds() for a, b in itertools.pairwise(tries)]
    assert all(g >= 0.02 for g in gaps), gaps  # backoff (policy base 0.05 s, half of it fixed)
    failed = runs(db, arq_job_id=bad)[0]
    assert (failed.status, failed.attempt, failed.error_type) == ("failed", 1, "PermanentJobError")
