"""Retention against real PostgreSQL: old finished rows of the ledger, attempts, sent outbox events,
audit log and schedule firings go, in batches; unfinished runs, running attempts, dead letters,
unsent events and young rows stay; the ages are config_ext keys read at each pass."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from controller.retention import Retention
from core.db.models.base import utcnow
from core.db.models.scheduling import ConfigExt

_SEED = """
INSERT INTO worker_job_run (arq_job_id, queue, function, args_redacted, status, attempt, max_attempts,
                            enqueued_at, finished_at, updated_at)
SELECT :prefix || g, 'periodic_run', 'sleep', '{}', :status, 1, 1, :at, CASE WHEN :finished THEN :at END, :at
FROM generate_series(1, :n) AS g;
INSERT INTO worker_job_attempt (arq_job_id, attempt, worker_id, status, started_at, finished_at)
SELECT :prefix || g, 1, 'w', CASE WHEN :status IN ('running', 'queued') THEN 'running' ELSE 'succeeded' END, :at,
       CASE WHEN :finished THEN :at END
FROM generate_series(1, :n) AS g;
"""


def _seed_runs(db: sessionmaker[Session], prefix: str, status: str, n: int, days_old: float) -> None:
    at = utcnow() - timedelta(days=days_old)
    with db() as session, session.begin():
        for statement in _SEED.strip().split(";\n"):
            session.execute(text(statement), {"prefix": prefix, "status": status, "n": n, "at": at,
                                              "finished": status not in ("queued", "running", "retrying")})


def _count(db: sessionmaker[Session], sql: str) -> int:
    with db() as session:
        return int(session.execute(text(sql)).scalar_one())


def _seed_others(db: sessionmaker[Session], days_old: float, n: int) -> None:
    at = utcnow() - timedelta(days=days_old)
    with db() as session, session.begin():
        params = {"at": at, "n": n}
        session.execute(text("INSERT INTO outbox_event (routing_key, payload, created_at, sent_at, attempts) "
                             "SELECT 'run.failed', '{}', :at, :at, 1 FROM generate_series(1, :n)"), params)
        session.execute(text("INSERT INTO outbox_event (routing_key, payload, created_at, attempts) "
                             "SELECT 'run.failed', '{}', :at, 3 FROM generate_series(1, :n)"), params)  # unsent
        session.execute(text("INSERT INTO audit_log (at, actor, action, details) "
                             "SELECT :at, 'ops', 'token.create', '{}' FROM generate_series(1, :n)"), params)
        session.execute(text("INSERT INTO job_config (name, function, args, enabled, created_at, updated_at) "
                             "VALUES ('every-minute-' || CAST(:at AS text), 'sleep', '{}', true, :at, :at)"), params)
        session.execute(text("INSERT INTO job_run (job_config_id, scheduled_for, created_at) "
                             "SELECT (SELECT max(id) FROM job_config), :at, :at FROM generate_series(1, :n)"), params)


async def test_old_finished_rows_are_pruned_in_batches_and_nothing_unfinished(db: sessionmaker[Session]) -> None:
    _seed_runs(db, "old-done-", "succeeded", 450, days_old=40)
    _seed_runs(db, "old-dead-", "dead", 5, days_old=40)
    _seed_runs(db, "old-queued-", "queued", 5, days_old=40)
    _seed_runs(db, "old-running-", "running", 5, days_old=40)
    _seed_runs(db, "young-done-", "succeeded", 20, days_old=2)
    _seed_others(db, days_old=400, n=150)
    _seed_others(db, days_old=1, n=10)
    with db() as session, session.begin():
        session.add(ConfigExt(tenant_id=None, key="retention.batch_rows", value=100))

    pruned = await Retention(db, pause_s=0.0).tick()

    # the pruned runs' attempts went with them (ON DELETE CASCADE); the kept dead runs' finished
    # attempts are older than their own retention (the run row keeps the error)
    assert pruned == {"worker_job_run": 450, "worker_job_attempt": 5, "outbox_event": 150, "audit_log": 150,
                      "job_run": 150}
    assert _count(db, "SELECT count(*) FROM worker_job_run WHERE arq_job_id LIKE 'old-done-%'") == 0
    assert _count(db, "SELECT count(*) FROM worker_job_run") == 5 + 5 + 5 + 20
    assert _count(db, "SELECT count(*) FROM worker_job_attempt WHERE status = 'running'") == 10
    assert _count(db, "SELECT count(*) FROM outbox_event WHERE sent_at IS NULL") == 160
    assert _count(db, "SELECT count(*) FROM outbox_event WHERE sent_at IS NOT NULL") == 10
    assert _count(db, "SELECT count(*) FROM audit_log") == 10
    assert _count(db, "SELECT count(*) FROM job_run") == 10
    assert await Retention(db).tick() == dict.fromkeys(pruned, 0)  # nothing left to prune


async def test_ages_come_from_config_ext(db: sessionmaker[Session]) -> None:
    _seed_runs(db, "week-old-", "failed", 30, days_old=8)
    assert (await Retention(db).tick())["worker_job_run"] == 0  # default: 30 days
    with db() as session, session.begin():
        session.add(ConfigExt(tenant_id=None, key="retention.job_run_days", value=7))
    assert (await Retention(db).tick())["worker_job_run"] == 30
