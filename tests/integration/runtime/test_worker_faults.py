"""A real worker process rides out Redis and PostgreSQL outages (issue 17), on throw-away servers.

Each test starts its own ``redis-server`` or PostgreSQL cluster on a free port, so killing it
touches nobody else. Jobs count their runs in a Redis hash, so "exactly once" is checked, not assumed.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import cast

import redis as redis_sync
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.ledger import WorkerJobAttempt, WorkerJobRun
from core.db.session import create_db_engine, make_session_factory
from core.settings import Settings
from functions.runner.worker import held_limit
from tests.integration.runtime.conftest import ThrowawayPostgres, ThrowawayRedis, enqueue
from tests.processes import integramon, wait_until

TERMINAL = {"succeeded", "failed", "dead", "cancelled", "skipped"}


def _ledger(db: sessionmaker[Session]) -> tuple[dict[str, str], list[str]]:
    """Run status by job id, and the statuses of every attempt."""
    with db() as session:
        runs = {r.arq_job_id: r.status for r in session.execute(select(WorkerJobRun)).scalars()}
        tries = [a.status for a in session.execute(select(WorkerJobAttempt)).scalars()]
    return runs, tries


def _attempts_of(db: sessionmaker[Session], job_id: str) -> list[tuple[int, str, str | None]]:
    with db() as session:
        rows = session.execute(select(WorkerJobAttempt).where(WorkerJobAttempt.arq_job_id == job_id)).scalars()
        return [(a.attempt, a.status, a.error_message) for a in rows]


def _stop(proc: object, log: Path, within: float) -> float:
    """SIGTERM the worker; returns how long it took to exit (it must exit 0)."""
    import subprocess

    assert isinstance(proc, subprocess.Popen)
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(within)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"worker did not stop within {within} s\n{log.read_text()}") from None
    assert code == 0, log.read_text()
    return time.monotonic() - began


def _logged_at(log: Path, text: str) -> float:
    """Wall time of the first log line containing ``text`` (the log format starts with the timestamp)."""
    line = next(line for line in log.read_text().splitlines() if text in line)
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def _lines(log: Path, text: str) -> int:
    return sum(1 for line in log.read_text().splitlines() if text in line)


def test_worker_rides_out_a_redis_restart_under_a_stream_of_jobs(
    settings: Settings, db: sessionmaker[Session], private_redis: ThrowawayRedis, tmp_path: Path
) -> None:
    settings = replace(settings, redis_url=private_redis.url, job_lease_seconds=15.0)
    log = tmp_path / "w.log"
    enqueued: list[str] = []
    stop_producing = threading.Event()

    def produce() -> None:  # a steady stream; batches refused while Redis is down are simply not counted
        while not stop_producing.is_set():
            try:
                enqueued.extend(enqueue(settings, "sleep", {"seconds": 0.02, "counter": "runs"}, count=20))
            except Exception:
                time.sleep(0.05)
            time.sleep(0.05)

    proc = integramon(settings, "worker", "--group", "periodic", "--concurrency", "10", log=log)
    producer = threading.Thread(target=produce)
    try:
        wait_until(lambda: private_redis.client().smembers("integramon:workers"), what="worker up")
        producer.start()
        wait_until(lambda: sum(s == "succeeded" for s in _ledger(db)[0].values()) >= 100, what="100 jobs done")
        private_redis.stop()
        time.sleep(2.0)
        assert proc.poll() is None, "worker exited during the Redis outage\n" + log.read_text()
        private_redis.start()
        time.sleep(1.5)
        stop_producing.set()
        producer.join()

        def all_done() -> bool:
            statuses, _ = _ledger(db)
            return all(statuses.get(j) == "succeeded" for j in enqueued)

        wait_until(all_done, timeout=60, what=f"all {len(enqueued)} stream jobs to succeed")
        assert proc.poll() is None, log.read_text()
        runs_by_job = cast("dict[bytes, bytes]", private_redis.client().hgetall("runs"))
        counts = {k.decode(): int(v) for k, v in runs_by_job.items()}
        # Exactly once per attempt: a clean job counted once; a job whose own HINCRBY met the restart
        # failed that attempt and was retried, and the lost reply may hide that Redis applied it.
        odd = {}
        for job in enqueued:
            tries = _attempts_of(db, job)
            succeeded = [t for t in tries if t[1] == "succeeded"]
            if len(succeeded) != 1 or not 1 <= counts.get(job, 0) <= len(tries):
                odd[job] = (counts.get(job), tries)
        assert not odd, f"jobs that did not run exactly once per attempt: {odd}"
        statuses, attempt_statuses = _ledger(db)
        assert set(statuses.values()) <= TERMINAL, statuses
        assert "running" not in attempt_statuses
        assert _stop(proc, log, within=10) < 10
    finally:
        stop_producing.set()
        if producer.is_alive():
            producer.join()
        if proc.poll() is None:
            proc.kill()
    assert len(enqueued) > 200
    assert _lines(log, "Redis unavailable") == 1, log.read_text()  # one line per outage ...
    assert _lines(log, "Redis is back") == 1, log.read_text()  # ... and one on recovery


def test_worker_rides_out_a_database_outage_and_endings_wait_in_the_recorder(
    settings: Settings, private_postgres: ThrowawayPostgres, redis_url: str, tmp_path: Path
) -> None:
    settings = replace(settings, database_url=private_postgres.url)
    engine = create_db_engine(private_postgres.url)
    db = make_session_factory(engine)
    rsync = redis_sync.Redis.from_url(redis_url)
    with engine.begin() as conn:
        conn.execute(WorkerJobAttempt.__table__.delete())  # type: ignore[attr-defined]
        conn.execute(WorkerJobRun.__table__.delete())  # type: ignore[attr-defined]
    ids = enqueue(settings, "sleep", {"seconds": 0.05, "counter": "runs"}, count=400)
    log = tmp_path / "w.log"
    proc = integramon(settings, "worker", "--group", "periodic", "--concurrency", "5", log=log)
    try:
        wait_until(lambda: sum(s == "succeeded" for s in _ledger(db)[0].values()) >= 30, what="30 jobs done")
        private_postgres.stop()

        def beat_state() -> str:
            ids_ = rsync.smembers("integramon:workers")
            raw = rsync.get(f"integramon:worker:{next(iter(ids_)).decode()}") if ids_ else None  # type: ignore[arg-type]
            return str(json.loads(raw)["state"]) if raw else ""  # type: ignore[arg-type]

        wait_until(lambda: beat_state() == "degraded: database unavailable", timeout=10,
                   what="heartbeat to say the worker is degraded")
        time.sleep(2.0)
        assert proc.poll() is None, "worker exited during the database outage\n" + log.read_text()
        pending = len(cast("list[bytes]", rsync.keys("arq:in-progress:*")))
        assert 0 < pending <= held_limit(5)  # running jobs + endings waiting for the ledger, bounded
        private_postgres.start()
        wait_until(lambda: all(_ledger(db)[0].get(j) == "succeeded" for j in ids), timeout=90,
                   what="every job to succeed after the outage")
        wait_until(lambda: beat_state() == "ok", timeout=10, what="heartbeat ok again")
        counts = {k.decode(): int(v) for k, v in cast("dict[bytes, bytes]", rsync.hgetall("runs")).items()}
        assert sorted(counts) == sorted(ids)
        assert set(counts.values()) == {1}
        assert "running" not in _ledger(db)[1]
        assert rsync.zcard("arq:queue:periodic_run") == 0
        _stop(proc, log, within=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        rsync.close()
        engine.dispose()
    assert _lines(log, "database unavailable") == 1, log.read_text()
    assert _lines(log, "database is back") == 1, log.read_text()


def test_no_zombie_after_client_pause_and_kill_during_short_jobs(
    settings: Settings, db: sessionmaker[Session], private_redis: ThrowawayRedis, tmp_path: Path
) -> None:
    """Issue 17's zombie: the Redis finish failed inside the ledger flush, the flusher died unsupervised,
    slots stayed 'running' forever and SIGTERM hung."""
    settings = replace(settings, redis_url=private_redis.url, shutdown_grace_seconds=3.0)
    ids = enqueue(settings, "noop", count=3000)  # no Redis call of its own: a killed one would fail the job
    log = tmp_path / "w.log"
    admin = private_redis.client()
    proc = integramon(settings, "worker", "--group", "periodic", "--concurrency", "10", log=log)
    try:
        for _ in range(3):  # several hits while jobs are finishing, so the finish step is among the victims
            wait_until(lambda: cast(int, admin.zcard("arq:queue:periodic_run")) < 2900, what="jobs flowing")
            # redis-py leaves execute_command unannotated
            admin.execute_command("CLIENT", "PAUSE", "1500", "WRITE")  # type: ignore[no-untyped-call]
            time.sleep(0.2)
            admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")  # type: ignore[no-untyped-call]
            time.sleep(1.5)
            ids += enqueue(settings, "noop", count=200)
        wait_until(lambda: admin.zcard("arq:queue:periodic_run") == 0, timeout=60, what="queue drained")
        wait_until(lambda: not admin.keys("arq:in-progress:*"), timeout=20, what="no job left in progress")
        statuses, tries = _ledger(db)
        assert all(statuses[j] == "succeeded" for j in ids)
        assert "running" not in tries
        assert _stop(proc, log, within=settings.shutdown_grace_seconds + 3) < settings.shutdown_grace_seconds + 3
    finally:
        if proc.poll() is None:
            proc.kill()
        admin.close()
    assert "Redis unavailable" in log.read_text()  # the kill did hit the worker's connections


def test_sigterm_during_a_redis_outage_stops_within_the_grace_period(
    settings: Settings, db: sessionmaker[Session], private_redis: ThrowawayRedis, tmp_path: Path
) -> None:
    settings = replace(settings, redis_url=private_redis.url, shutdown_grace_seconds=1.5, job_lease_seconds=20.0)
    ids = enqueue(settings, "sleep", {"seconds": 0.3}, count=3)
    log = tmp_path / "w.log"
    proc = integramon(settings, "worker", "--group", "periodic", "--concurrency", "3", log=log)
    try:
        wait_until(lambda: all(s == "running" for s in _ledger(db)[0].values()), what="jobs running")
        private_redis.stop()
        time.sleep(0.5)  # the jobs end; their Redis finish cannot happen
        signalled = time.time()
        assert _stop(proc, log, within=8) < settings.shutdown_grace_seconds + 3  # + interpreter exit
    finally:
        if proc.poll() is None:
            proc.kill()
    drained = _logged_at(log, " stopped: WorkerStats") - signalled
    assert drained < settings.shutdown_grace_seconds + 0.3, drained  # the worker's drain fits the grace
    # the endings reached the ledger; the jobs stay leased in Redis and are finished by a later claim
    statuses, _ = _ledger(db)
    assert [statuses[j] for j in ids] == ["succeeded"] * 3
    assert "job ending(s) not recorded (Redis unavailable)" in log.read_text()


def test_heartbeat_is_withheld_while_the_ledger_flush_is_stuck(
    settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis, pg_engine: object, tmp_path: Path
) -> None:
    """A worker that cannot make progress must not look healthy: a ledger write blocked on a lock
    (PostgreSQL up, so no outage) stops the heartbeat, so its leases run out; it resumes after."""
    from sqlalchemy import Engine, text

    assert isinstance(pg_engine, Engine)
    ids = enqueue(settings, "sleep", {"seconds": 0.05}, count=40)
    log = tmp_path / "w.log"
    proc = integramon(settings, "worker", "--group", "periodic", "--concurrency", "2", log=log)
    try:
        wait_until(lambda: rsync.smembers("integramon:workers"), what="worker up")
        with pg_engine.connect() as locker:
            locker.execute(text("LOCK TABLE worker_job_run IN ACCESS EXCLUSIVE MODE"))
            # ttl (3 s) of stuck flush before withholding + ttl (3 s) for the last beat to expire
            wait_until(lambda: not rsync.keys("integramon:worker:*"), timeout=12, what="heartbeat to lapse")
            assert proc.poll() is None
            locker.rollback()
        wait_until(lambda: rsync.keys("integramon:worker:*"), timeout=5, what="heartbeat back")
        wait_until(lambda: all(runs_status == "succeeded" for runs_status in _ledger(db)[0].values()),
                   timeout=30, what="jobs done after the lock")
        assert len(_ledger(db)[0]) == len(ids)
        _stop(proc, log, within=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _lines(log, "cannot make progress (a ledger flush has been waiting") == 1, log.read_text()


def test_worker_started_while_redis_is_down_waits_then_serves(
    settings: Settings, db: sessionmaker[Session], private_redis: ThrowawayRedis, tmp_path: Path
) -> None:
    """Started before its Redis (as compose or ECS may start it), a worker waits instead of exiting."""
    settings = replace(settings, redis_url=private_redis.url)
    log = tmp_path / "w.log"
    private_redis.stop()
    proc = integramon(settings, "worker", "--group", "periodic", "--concurrency", "2", log=log)
    try:
        wait_until(lambda: _lines(log, "Redis unavailable") >= 1, timeout=30, what="the outage logged")
        time.sleep(2.0)
        assert proc.poll() is None, "worker exited while Redis was down\n" + log.read_text()
        private_redis.start()
        wait_until(lambda: private_redis.client().smembers("integramon:workers"), timeout=30, what="worker up")
        (job,) = enqueue(settings, "noop")

        def done() -> bool:
            return _ledger(db)[0].get(job) == "succeeded"

        wait_until(done, timeout=30, what="the job to succeed")
        assert _stop(proc, log, within=15) < 15
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _lines(log, "Redis unavailable") == 1, log.read_text()  # one line for the whole wait ...
    assert _lines(log, "Redis is back") == 1, log.read_text()  # ... and one when it answers
