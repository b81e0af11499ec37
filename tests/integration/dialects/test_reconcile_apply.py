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
from core.ledger.reconcile import reconcile
from core.queues.keys import worker_key

STALE = timedelta(minutes=45)
QUEUE_KEY = "arq:queue:periodic_run"
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
            await redis.set(f"arq:job:{prefix}{name}", b"x")
            await redis.zadd(QUEUE_KEY, {f"{prefix}{name}": 1})
        if alive and worker:
            await redis.set(worker_key(worker), json.dumps({"worker_id": worker}))


def _outcome(sessions: sessionmaker[Session], prefix: str) -> dict[str, Any]:
    with sessions() as session:
        runs = {r.arq_job_id.removeprefix(prefix): (r.status, (r.reconcile_meta or {}).get("reason"),
                                                    r.error_type, r.finished_at is not None)
                for r in session.scalars(select(WorkerJobRun))}
        attempts = {a.arq_job_id.removeprefix(prefix): (a.status, a.error_type, a.finished_at is not None)
                    for a in session.scalars(select(WorkerJobAttempt))}
        reconciled = select(OutboxEvent.payload).where(OutboxEvent.routing_key == "run.reconciled")
        events = sorted((p["job_id"].removeprefix(prefix), p["previous_status"], p["status"], p["reason"],
                         p["tenant_id"]) for p in session.scalars(reconciled))
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
    assert runs["orphan"] == ("skipped", "stale_queued", "Reconciled", True)
    assert runs["retry-orphan"][:2] == ("skipped", "stale_retrying")
    assert runs["lost-requeued"] == ("retrying", "worker_lost_requeued", None, False)
    assert runs["lost"][:2] == ("skipped", "worker_lost")
    assert {runs[n][0] for n in ("backlog", "fresh", "slow")} == {"queued", "running"}
    assert outcome["attempts"]["lost"] == ("lost", "WorkerLost", True)
    assert outcome["attempts"]["slow"] == ("running", None, False)
    assert len(outcome["events"]) == 4
