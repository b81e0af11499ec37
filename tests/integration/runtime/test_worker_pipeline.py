"""A slot is free when its function ends; the ending waits for the ledger while the job stays leased.

The concurrency limit counts running functions, so a one-slot worker runs its next job while the
previous one's ledger batch is still being written; the previous job leaves Redis only after that
batch is committed. The jobs held that way are bounded (``held_limit``), so a database outage cannot
make a worker claim without end.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import cast

import redis as redis_sync
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.ledger import WorkerJobAttempt, WorkerJobRun
from core.db.session import create_db_engine, make_session_factory
from core.settings import Settings
from functions.runner.worker import held_limit
from tests.integration.runtime.conftest import ThrowawayPostgres, enqueue
from tests.processes import running, wait_until


def _status(db: sessionmaker[Session], job_id: str) -> str:
    with db() as session:
        return str(session.execute(select(WorkerJobRun.status).where(WorkerJobRun.arq_job_id == job_id)).scalar_one())


def _runs(rsync: redis_sync.Redis, job_id: str) -> int:
    return int(cast("bytes | None", rsync.hget("runs", job_id)) or 0)


def test_one_slot_runs_the_next_job_while_the_previous_ending_awaits_its_commit(
    settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis, pg_engine: Engine, tmp_path: Path
) -> None:
    """Job A's run row is locked, so its ledger batch cannot commit; with ONE slot job B must still run
    (the slot was freed when A's function ended), and A must stay in Redis until its batch commits."""
    [first] = enqueue(settings, "sleep", {"seconds": 0, "counter": "runs"})
    log = tmp_path / "w.log"
    with pg_engine.connect() as locker:
        locker.execute(text("SELECT 1 FROM worker_job_run WHERE arq_job_id = :id FOR UPDATE"), {"id": first})
        with running(settings, "worker", "--group", "periodic", "--concurrency", "1", log=log):
            wait_until(lambda: _runs(rsync, first) == 1, what="job A to run")
            [second] = enqueue(settings, "sleep", {"seconds": 0, "counter": "runs"})
            wait_until(lambda: _runs(rsync, second) == 1, timeout=10,
                       what="job B to run while A's ledger batch waits (its slot should be free)\n" + log.read_text())
            assert _status(db, first) != "succeeded"  # A's batch is not committed ...
            assert rsync.exists(f"arq:in-progress:{first}")  # ... so A is still leased in Redis
            locker.rollback()
            wait_until(lambda: _status(db, first) == "succeeded" and _status(db, second) == "succeeded",
                       what="both endings written once the lock is gone")
            wait_until(lambda: not rsync.exists(f"arq:in-progress:{first}", f"arq:in-progress:{second}"),
                       what="both jobs finished in Redis")
    assert _runs(rsync, first) == 1
    assert _runs(rsync, second) == 1


def test_jobs_held_during_a_database_outage_stay_within_the_bound(
    settings: Settings, private_postgres: ThrowawayPostgres, redis_url: str, tmp_path: Path
) -> None:
    """While PostgreSQL is down no ending can be written: the worker keeps at most ``held_limit`` jobs
    leased and then claims nothing more (the rest stay queued), and all run exactly once afterwards."""
    settings = replace(settings, database_url=private_postgres.url)
    engine = create_db_engine(private_postgres.url)
    db = make_session_factory(engine)
    rsync = redis_sync.Redis.from_url(redis_url)
    with engine.begin() as conn:
        conn.execute(WorkerJobAttempt.__table__.delete())  # type: ignore[attr-defined]
        conn.execute(WorkerJobRun.__table__.delete())  # type: ignore[attr-defined]
    slots = 2
    bound = held_limit(slots)
    total = 3 * bound
    ids = enqueue(settings, "sleep", {"seconds": 0.01, "counter": "runs"}, count=total)
    log = tmp_path / "w.log"
    try:
        with running(settings, "worker", "--group", "periodic", "--concurrency", str(slots), log=log):
            wait_until(lambda: cast(int, rsync.hlen("runs")) >= 5, what="a few jobs run")
            private_postgres.stop()
            wait_until(lambda: "database unavailable" in log.read_text(), timeout=15, what="the outage noticed")
            time.sleep(1.0)  # endings pile up in the recorder until the bound stops the claim loop
            ran = rsync.hlen("runs")
            time.sleep(1.0)  # at 2 x 0.01 s jobs an unbounded claim loop would run ~200 more here
            assert rsync.hlen("runs") == ran, "the worker kept claiming during the outage"
            assert len(cast("list[bytes]", rsync.keys("arq:in-progress:*"))) <= bound
            assert cast(int, rsync.zcard("arq:queue:periodic_run")) > 0  # the rest stayed queued
            private_postgres.start()
            wait_until(lambda: rsync.hlen("runs") == total and rsync.zcard("arq:queue:periodic_run") == 0,
                       timeout=60, what="every job to run after the outage")
            with db() as session:
                wait_until(lambda: all(
                    s == "succeeded" for s in session.execute(select(WorkerJobRun.status)).scalars().all()),
                    timeout=30, what="every ending written")
        counts = {k.decode(): int(v) for k, v in cast("dict[bytes, bytes]", rsync.hgetall("runs")).items()}
    finally:
        rsync.close()
        engine.dispose()
    assert sorted(counts) == sorted(ids)
    assert set(counts.values()) == {1}
