"""Reconciliation against real PostgreSQL and Redis: stale queued rows, lost workers, a flushed Redis,
idempotence and two concurrent passes."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from controller.dispatch import POLL_FUNCTIONS, PollDispatcher
from core.db.models.base import utcnow
from core.db.models.controller import WorkerProcess
from core.db.models.ledger import WorkerJobRun
from core.db.models.outbox import OutboxEvent
from core.ledger.reconcile import reconcile
from core.queues.catalog import function
from core.queues.keys import worker_key
from core.resources import Resources
from tests.integration.controller.conftest import add_run, add_tenants

STALE = timedelta(minutes=45)


def _run(sessions: sessionmaker[Session], job_id: str) -> WorkerJobRun:
    with sessions() as session:
        return session.execute(select(WorkerJobRun).where(WorkerJobRun.arq_job_id == job_id)).scalar_one()


def _events(sessions: sessionmaker[Session]) -> list[dict[str, object]]:
    with sessions() as session:
        return [
            e.payload
            for e in session.execute(
                select(OutboxEvent).where(OutboxEvent.routing_key == "run.reconciled").order_by(OutboxEvent.id)
            ).scalars()
        ]


async def _put_job(redis: Redis, job_id: str, queue: str = "periodic_run") -> None:
    await redis.set(f"arq:job:{job_id}", b"x")
    await redis.zadd(f"arq:queue:{queue}", {job_id: 1})


async def test_stale_queued_row_without_job_is_skipped_once(resources: Resources) -> None:
    sessions, redis = resources.sessions, resources.redis
    old = utcnow() - timedelta(minutes=50)
    lost = add_run(sessions, status="queued", enqueued_at=old)
    backlog = add_run(sessions, status="queued", enqueued_at=old)
    fresh = add_run(sessions, status="queued")
    await _put_job(redis, backlog)

    report = await reconcile(sessions, redis, stale_after=STALE)

    assert (report.skipped, report.retrying) == (1, 0)
    row = _run(sessions, lost)
    assert row.status == "skipped"
    assert row.finished_at is not None
    assert row.reconcile_meta is not None
    assert row.reconcile_meta["reason"] == "stale_queued"
    assert row.reconcile_meta["previous_status"] == "queued"
    assert row.reconcile_meta["last_heartbeat_seen"] is None
    assert "detected_at" in row.reconcile_meta
    assert _run(sessions, backlog).status == "queued"  # still runnable: a backlog, not an orphan
    assert _run(sessions, fresh).status == "queued"  # younger than the timeout
    assert [e["job_id"] for e in _events(sessions)] == [lost]

    again = await reconcile(sessions, redis, stale_after=STALE)
    assert (again.skipped, again.retrying) == (0, 0)
    assert len(_events(sessions)) == 1


async def test_running_rows_of_a_dead_worker_are_requeued_or_skipped(resources: Resources) -> None:
    sessions, redis = resources.sessions, resources.redis
    seen = utcnow() - timedelta(seconds=30)
    with sessions() as session, session.begin():
        session.execute(
            insert(WorkerProcess),
            [
                {
                    "worker_id": "dead-1",
                    "group_name": "periodic",
                    "queues": ["periodic_run"],
                    "concurrency": 1,
                    "running": [],
                    "last_seen": seen,
                    "status": "gone",
                }
            ],
        )
    requeue = add_run(sessions, status="running", worker_id="dead-1", attempt=1, started_at=utcnow())
    vanished = add_run(sessions, status="running", worker_id="dead-1", attempt=1, started_at=utcnow())
    leased = add_run(sessions, status="running", worker_id="dead-1", attempt=1, started_at=utcnow())
    slow = add_run(sessions, status="running", worker_id="alive-1", attempt=1, started_at=utcnow())
    await _put_job(redis, requeue)
    await _put_job(redis, leased)
    await redis.set(f"arq:in-progress:{leased}", "dead-1", px=5000)
    await redis.set(worker_key("alive-1"), json.dumps({"worker_id": "alive-1"}), px=5000)

    report = await reconcile(sessions, redis, stale_after=STALE)

    assert (report.skipped, report.retrying, report.left_alone) == (1, 1, 2)
    row = _run(sessions, requeue)
    assert row.status == "retrying"
    assert row.reconcile_meta is not None
    assert row.reconcile_meta["reason"] == "worker_lost_requeued"
    assert row.reconcile_meta["last_heartbeat_seen"] == seen.isoformat()
    gone = _run(sessions, vanished)
    assert gone.status == "skipped"
    assert gone.reconcile_meta is not None
    assert gone.reconcile_meta["previous_status"] == "running"
    assert _run(sessions, leased).status == "running"
    assert _run(sessions, slow).status == "running"
    assert {e["status"] for e in _events(sessions)} == {"retrying", "skipped"}


async def test_two_concurrent_passes_recover_each_row_once(resources: Resources) -> None:
    sessions, redis = resources.sessions, resources.redis
    old = utcnow() - timedelta(hours=2)
    ids = [add_run(sessions, status="queued", enqueued_at=old) for _ in range(50)]

    first, second = await asyncio.gather(
        reconcile(sessions, redis, stale_after=STALE), reconcile(sessions, redis, stale_after=STALE)
    )

    assert first.skipped + second.skipped == 50
    assert sorted(str(e["job_id"]) for e in _events(sessions)) == sorted(ids)


async def test_redis_flushed_under_queued_rows_frees_tenants_for_polling(resources: Resources) -> None:
    sessions, redis = resources.sessions, resources.redis
    add_tenants(sessions, 2)
    dispatcher = PollDispatcher(sessions, resources.redis, resources.enqueuer)
    kinds = len(POLL_FUNCTIONS)
    on_messagelog_read = sum(function(f).queue == "messagelog_read" for f in POLL_FUNCTIONS.values())
    first = await dispatcher.tick()
    assert first.enqueued == 2 * kinds
    await redis.flushdb()

    young = await reconcile(sessions, redis, stale_after=STALE)
    assert young.skipped == 0  # rows younger than the timeout wait: the jobs might still be on their way

    later = utcnow() + timedelta(minutes=46)
    report = await reconcile(sessions, redis, stale_after=STALE, now=later)
    assert report.skipped == 2 * kinds
    with sessions() as session:
        statuses = set(session.execute(select(WorkerJobRun.status)).scalars())
    assert statuses == {"skipped"}

    again = await dispatcher.tick(now=later + timedelta(hours=6))
    assert again.enqueued == 2 * kinds  # the dedup keys are free again, the jobs are back in Redis
    assert await redis.zcard("arq:queue:messagelog_read") == 2 * on_messagelog_read


async def test_vanished_jobs_are_skipped_after_the_grace_so_the_next_poll_is_enqueued(resources: Resources) -> None:
    sessions, redis = resources.sessions, resources.redis
    add_tenants(sessions, 2)
    dispatcher = PollDispatcher(sessions, resources.redis, resources.enqueuer)
    kinds = len(POLL_FUNCTIONS)
    assert (await dispatcher.tick()).enqueued == 2 * kinds
    finished = add_run(sessions, status="retrying")  # ran; its ending still waits in a worker's recorder
    await redis.set(f"arq:result:{finished}", b"r")
    await redis.flushdb()
    await redis.set(f"arq:result:{finished}", b"r")
    grace = timedelta(seconds=30)

    within = await reconcile(sessions, redis, stale_after=STALE, vanished_after=grace)
    assert within.skipped == 0  # the ledger row is written before the push: a new row may not be in Redis yet

    later = utcnow() + timedelta(seconds=31)
    report = await reconcile(sessions, redis, stale_after=STALE, vanished_after=grace, now=later)
    assert report.skipped == 2 * kinds
    with sessions() as session:
        rows = session.execute(select(WorkerJobRun.arq_job_id, WorkerJobRun.status, WorkerJobRun.reconcile_meta)).all()
    skipped = [meta["reason"] for job, status, meta in rows if status == "skipped"]
    assert skipped == ["job vanished"] * 2 * kinds
    assert {status for job, status, _ in rows if job == finished} == {"retrying"}
    assert {e["reason"] for e in _events(sessions)} == {"job vanished"}
    again = await dispatcher.tick(now=later + timedelta(hours=6))
    assert again.enqueued == 2 * kinds  # the dedup keys do not block the next poll
