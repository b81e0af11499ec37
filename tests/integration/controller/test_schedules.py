"""Schedule runner against real PostgreSQL and Redis: once per due slot, even with two runners."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from controller.schedules import ScheduleRunner
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.scheduling import JobConfig, JobRun
from core.resources import Resources
from core.secrets import SecretBox


def _runner(resources: Resources) -> ScheduleRunner:
    return ScheduleRunner(resources.sessions, resources.enqueuer, SecretBox(resources.settings))


def _add_config(sessions: sessionmaker[Session], name: str, **values: Any) -> int:
    row = {"name": name, "function": "noop", "args": {"counter": "c"}, "enabled": True} | values
    with sessions() as session, session.begin():
        return int(session.execute(insert(JobConfig).values(**row).returning(JobConfig.id)).scalar_one())


def _config(sessions: sessionmaker[Session], config_id: int) -> JobConfig:
    with sessions() as session:
        return session.get_one(JobConfig, config_id)


def _job_runs(sessions: sessionmaker[Session]) -> list[tuple[int, int | None, str]]:
    with sessions() as session:
        rows = session.execute(
            select(JobRun.job_config_id, JobRun.worker_job_run_id, WorkerJobRun.function)
            .join(WorkerJobRun, WorkerJobRun.id == JobRun.worker_job_run_id)
            .order_by(JobRun.id)
        ).all()
        return [(a, b, c) for a, b, c in rows]


async def test_missed_interval_schedule_runs_once_and_advances_from_now(resources: Resources) -> None:
    sessions = resources.sessions
    now = utcnow()
    config_id = _add_config(sessions, "every-minute", interval_seconds=60, next_run_at=now - timedelta(hours=3))

    fired = await _runner(resources).tick(now)

    assert fired == 1
    runs = _job_runs(sessions)
    assert len(runs) == 1
    assert runs[0][0] == config_id
    assert runs[0][2] == "noop"
    config = _config(sessions, config_id)
    assert config.next_run_at == now + timedelta(seconds=60)
    assert config.last_run_at == now
    with sessions() as session:
        run = session.execute(select(WorkerJobRun)).scalar_one()
    assert run.arq_job_id.startswith(f"schedule:{config_id}:")
    assert await resources.redis.zscore("arq:queue:periodic_run", run.arq_job_id) is not None
    assert await _runner(resources).tick(now + timedelta(seconds=30)) == 0


async def test_two_runners_fire_each_due_schedule_exactly_once(resources: Resources) -> None:
    sessions = resources.sessions
    now = utcnow()
    ids = [
        _add_config(sessions, f"s{i}", interval_seconds=300, next_run_at=now - timedelta(seconds=i)) for i in range(20)
    ]
    first = _runner(resources)
    second = _runner(resources)

    counts = await asyncio.gather(first.tick(now), second.tick(now), first.tick(now), second.tick(now))

    assert sum(counts) == 20
    assert sorted(r[0] for r in _job_runs(sessions)) == ids
    with sessions() as session:
        assert len(session.execute(select(WorkerJobRun.id)).all()) == 20


async def test_cron_schedule_fires_and_moves_to_the_next_cron_slot(resources: Resources) -> None:
    sessions = resources.sessions
    now = datetime(2030, 5, 1, 12, 7, 30, tzinfo=UTC)
    config_id = _add_config(
        sessions, "quarterly", cron="*/15 * * * *", next_run_at=datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    )
    assert await _runner(resources).tick(now) == 1
    assert _config(sessions, config_id).next_run_at == datetime(2030, 5, 1, 12, 15, tzinfo=UTC)


async def test_unplanned_schedule_gets_a_next_run_and_active_run_blocks_a_slot(resources: Resources) -> None:
    sessions = resources.sessions
    now = utcnow()
    planned = _add_config(sessions, "new", interval_seconds=120)
    runner = _runner(resources)
    assert await runner.tick(now) == 0
    assert _config(sessions, planned).next_run_at == now + timedelta(seconds=120)

    assert await runner.tick(now + timedelta(seconds=121)) == 1  # its job stays queued (no worker here)
    with sessions() as session, session.begin():
        session.execute(update(JobConfig).values(next_run_at=now))
    assert await runner.tick(now + timedelta(seconds=200)) == 0  # previous run still active: slot skipped
    assert len(_job_runs(sessions)) == 1
    assert _config(sessions, planned).next_run_at == now + timedelta(seconds=320)
