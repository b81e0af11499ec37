"""Worker health watch and platform metric dispatch against real PostgreSQL and Redis."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from controller.health import WorkerHealthWatch
from controller.metrics_dispatch import MetricDispatcher
from core.db.migrate import upgrade
from core.db.models.base import utcnow
from core.db.models.controller import WorkerProcess
from core.db.models.ledger import WorkerJobRun
from core.db.models.tuning import MetricSettings
from core.db.session import create_db_engine
from core.queues.keys import HANDED_OFFERS, OFFERS, WORKERS_INDEX, handoff_channel, worker_key
from core.resources import Resources

SEEDED_METRICS = {"host_metrics": 60, "api_metrics": 60, "storage": 3600}  # what migration 0101 seeds


async def _beat(resources: Resources, worker_id: str, running: list[str], ttl_ms: int = 5000) -> None:
    record = {
        "worker_id": worker_id,
        "group": "periodic",
        "queues": ["periodic_run", "stats_cache"],
        "concurrency": 2,
        "running": running,
        "host": "h1",
        "pid": 42,
        "version": "0.1.0",
        "started_at": time.time() - 60,
        "last_seen": time.time(),
    }
    await resources.redis.set(worker_key(worker_id), json.dumps(record), px=ttl_ms)
    await resources.redis.sadd(WORKERS_INDEX, worker_id)


def _workers(sessions: sessionmaker[Session]) -> dict[str, WorkerProcess]:
    with sessions() as session:
        return {w.worker_id: w for w in session.execute(select(WorkerProcess)).scalars()}


async def test_live_workers_are_recorded_and_expired_ones_marked_gone(resources: Resources) -> None:
    watch = WorkerHealthWatch(resources.sessions, resources.redis)
    await _beat(resources, "w-live", ["job-a"])
    await _beat(resources, "w-dying", [])

    first = await watch.tick()
    assert sorted(first.live) == ["w-dying", "w-live"]
    live = _workers(resources.sessions)["w-live"]
    assert (live.status, live.running, live.concurrency, live.group_name) == ("live", ["job-a"], 2, "periodic")
    assert live.queues == ["periodic_run", "stats_cache"]

    await resources.redis.delete(worker_key("w-dying"))  # heartbeat expired
    for worker in ("w-dying", "w-live"):  # both had hand-off offers open; one process died
        await resources.redis.hset(OFFERS, worker, f"3:30000:{handoff_channel(worker)}")
        await resources.redis.hset(HANDED_OFFERS, worker, "2\nq\nj\n1\n1\n0\n{}")
    second = await watch.tick()

    assert second.gone == ["w-dying"]
    rows = _workers(resources.sessions)
    assert rows["w-dying"].status == "gone"
    assert rows["w-dying"].gone_at is not None
    assert rows["w-live"].status == "live"
    assert await resources.redis.smembers(WORKERS_INDEX) == {b"w-live"}
    assert await resources.redis.hkeys(OFFERS) == [b"w-live"], "the dead worker's offer is dropped"
    assert await resources.redis.hkeys(HANDED_OFFERS) == [b"w-live"]


def test_migration_seeds_the_platform_metric_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'seed.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(MetricSettings.metric, MetricSettings.enabled, MetricSettings.interval_seconds)
            ).all()
    finally:
        engine.dispose()
    assert {r[0]: (r[1], r[2]) for r in rows} == {m: (True, s) for m, s in SEEDED_METRICS.items()}


def _seed_metrics(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        session.execute(
            insert(MetricSettings),
            [{"metric": m, "enabled": True, "interval_seconds": s} for m, s in SEEDED_METRICS.items()],
        )


async def test_metric_dispatch_enqueues_due_metrics_once_per_interval(resources: Resources) -> None:
    sessions = resources.sessions
    _seed_metrics(sessions)
    dispatcher = MetricDispatcher(sessions, resources.enqueuer)
    now = utcnow()

    assert sorted(await dispatcher.tick(now)) == ["api_metrics", "host_metrics", "storage"]
    assert await dispatcher.tick(now + timedelta(seconds=30)) == []
    with sessions() as session, session.begin():
        session.execute(update(WorkerJobRun).values(status="succeeded"))
        session.execute(update(MetricSettings).where(MetricSettings.metric == "api_metrics").values(enabled=False))
    assert await dispatcher.tick(now + timedelta(seconds=61)) == ["host_metrics"]

    with sessions() as session:
        functions = sorted(session.execute(select(WorkerJobRun.function)).scalars())
    assert functions == [
        "api_metrics_dispatch_task",
        "host_metrics_dispatch_task",
        "host_metrics_dispatch_task",
        "storage_dispatch_task",
    ]
