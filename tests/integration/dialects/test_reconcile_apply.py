"""Reconciliation writes its decisions by dialect (PostgreSQL: one CTE per group that updates, writes the
outbox events and closes lost attempts; SQLite: ORM updates, events and attempts in Python). The same
ledger and Redis state must end the same way on both, and a second pass must change nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobAttempt, WorkerJobRun
from core.db.models.outbox import OutboxEvent
from core.db.session import create_db_engine, make_session_factory
from core.ledger.reconcile import REASONS, reconcile
from core.queues.keys import job_key, queue_key, worker_key

STALE = timedelta(minutes=45)
QUEUE_KEY = queue_key("periodic_run")
# name -> (status, minutes since enqueue, worker, in Redis queue, worker alive)
CASES: dict[str, tuple[str, int, str | None, bool, bool]] = {
    "orphan": ("queued", 50, None, False, False),
    "backlog": ("queued", 50, None, True, False),
    "fresh": ("queued", 5, None, False, False),
    "retry-orphan": ("retrying", 50, None, False, False),
    "lost-requeued": ("running", 50, "w-dead", True, False),
    "lost": ("running", 50, "w-dead", False, False),
    "slow": ("running", 50, "w-alive", False, True),
}


def _store(sessions: sessionmaker[Session], prefix: str, now: datetime) -> None:
    with sessions() as session, session.begin():
        for name, (status, minutes, worker, _, _) in CASES.items():
            job_id = f"{prefix}{name}"
            session.add(WorkerJobRun(arq_job_id=job_id, queue="periodic_run", function="noop", status=status,
                                     attempt=1, max_attempts=3, enqueued_at=now - timedelta(minutes=minutes),
                                     worker_id=worker, tenant_id=3))
            session.flush()
            if status == "running":
                session.add(WorkerJobAttempt(arq_job_id=job_id, attempt=1, worker_id=worker, status="running",
                                             started_at=now - timedelta(minutes=minutes - 1)))


async def _redis_state(redis: Redis, prefix: str) -> None:
    for name, (_, _, worker, queued, alive) in CASES.items():
        if queued:
            await redis.set(job_key(f"{prefix}{name}"), b"x")
            await redis.zadd(QUEUE_KEY, {f"{prefix}{name}": 1})
        if alive and worker:
            await redis.set(worker_key(worker), json.dumps({"worker_id": worker}))


def _without(data: dict[str, Any] | None, *names: str) -> list[tuple[str, Any]]:
    """``data``'s items in key order, minus the values that differ between the two runs (ids, times)."""
    return sorted((k, v) for k, v in (data or {}).items() if k not in names)


def _outcome(sessions: sessionmaker[Session], prefix: str) -> dict[str, Any]:
    with sessions() as session:
        runs = {r.arq_job_id.removeprefix(prefix): (r.status, _without(r.reconcile_meta, "detected_at"),
                                                    r.error_type, r.error_message, r.finished_at is not None)
                for r in session.scalars(select(WorkerJobRun))}
        attempts = {a.arq_job_id.removeprefix(prefix): (a.status, a.error_type, a.finished_at is not None)
                    for a in session.scalars(select(WorkerJobAttempt))}
        # whole payloads: PostgreSQL writes them with jsonb_build_object, SQLite from a Python dict
        reconciled = select(OutboxEvent.payload).where(OutboxEvent.routing_key == "run.reconciled")
        events = sorted((p["job_id"].removeprefix(prefix), _without(p, "job_id", "run_id"), "run_id" in p)
                        for p in session.scalars(reconciled))
    return {"runs": runs, "attempts": attempts, "events": events}


async def _scenario(url: str, redis: Redis, prefix: str) -> tuple[list[int], dict[str, Any]]:
    engine = create_db_engine(url)
    try:
        sessions = make_session_factory(engine)
        now = utcnow()
        _store(sessions, prefix, now)
        await _redis_state(redis, prefix)
        first = await reconcile(sessions, redis, stale_after=STALE)
        second = await reconcile(sessions, redis, stale_after=STALE)
        counts = [first.skipped, first.retrying, first.left_alone, second.skipped, second.retrying]
        return counts, _outcome(sessions, prefix)
    finally:
        engine.dispose()


async def test_same_recoveries_on_both_databases(database_urls: dict[str, str], redis: Redis) -> None:
    pg = await _scenario(database_urls["postgresql"], redis, "pg-")
    lite = await _scenario(database_urls["sqlite"], redis, "lite-")
    assert pg == lite
    counts, outcome = pg
    assert counts == [3, 1, 2, 0, 0]  # backlog and slow examined and left alone; fresh not a candidate
    runs = outcome["runs"]
    reasons = {name: dict(run[1]).get("reason") for name, run in runs.items()}
    assert reasons == {"orphan": "stale_queued", "backlog": None, "fresh": None, "retry-orphan": "stale_retrying",
                       "lost-requeued": "worker_lost_requeued", "lost": "worker_lost", "slow": None}
    assert runs["orphan"][0] == "skipped"
    assert runs["orphan"][2:] == ("Reconciled", REASONS["stale_queued"], True)
    assert runs["retry-orphan"][0] == "skipped"
    assert runs["lost-requeued"][0] == "retrying"
    assert runs["lost-requeued"][2:] == (None, None, False)
    assert runs["lost"][0] == "skipped"
    assert {runs[n][0] for n in ("backlog", "fresh", "slow")} == {"queued", "running"}
    assert outcome["attempts"]["lost"] == ("lost", "WorkerLost", True)
    assert outcome["attempts"]["slow"] == ("running", None, False)
    assert len(outcome["events"]) == 4
