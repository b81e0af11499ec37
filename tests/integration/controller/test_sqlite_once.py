"""The embedded setup: every loop once on a migrated SQLite database (the non-PostgreSQL code paths)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

from controller.app import Controller
from core.db.migrate import upgrade
from core.db.models.base import utcnow
from core.db.models.controller import QueueSample, WorkerProcess
from core.db.models.ledger import WorkerJobRun
from core.db.models.scheduling import JobConfig, JobRun
from core.db.models.tenants import Tenant
from core.queues.keys import WORKERS_INDEX, worker_key
from core.resources import open_resources
from core.settings import Settings


async def test_once_on_sqlite_fires_polls_schedules_and_reconciles(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    upgrade(url)
    embedded = replace(settings, database_url=url)
    async with open_resources(embedded) as res:
        with res.sessions() as session, session.begin():
            session.execute(insert(Tenant).values(id=1, name="t1", api_url="http://127.0.0.1:1", client_id="c",
                                                  client_secret_encrypted="x"))
            tick = session.execute(insert(JobConfig).values(
                name="tick", function="noop", args={}, interval_seconds=60,
                next_run_at=utcnow() - timedelta(minutes=5)).returning(JobConfig.id)).scalar_one()
            session.execute(insert(WorkerJobRun).values(arq_job_id="lost-1", queue="periodic_run", function="noop",
                                                        args_redacted={}, status="queued",
                                                        enqueued_at=utcnow() - timedelta(hours=1)))
        await res.redis.set(worker_key("w1"), json.dumps({"worker_id": "w1", "group": "periodic",
                                                          "last_seen": time.time()}), px=5000)
        await res.redis.sadd(WORKERS_INDEX, "w1")

        ok, _ = await Controller(res).run_once()

        assert ok
        with res.sessions() as session:
            runs = {r.arq_job_id: r for r in session.execute(select(WorkerJobRun)).scalars()}
            job_runs = session.execute(select(JobRun).where(JobRun.job_config_id == tick)).scalars().all()
            defaults_fired = session.execute(select(JobConfig.name).join(JobRun, JobRun.job_config_id == JobConfig.id)
                                             .where(JobConfig.name.like("default.%"))).scalars().all()
            samples = session.execute(select(QueueSample)).scalars().all()
            worker = session.get_one(WorkerProcess, "w1")
    assert runs["lost-1"].status == "skipped"
    assert {r.function for r in runs.values() if r.status == "queued"} >= {
        "read_message_logs", "deep_sync_iflow_artifacts", "noop"}
    assert len(job_runs) == 1
    assert runs[next(k for k in runs if k.startswith(f"schedule:{tick}:"))].id == job_runs[0].worker_job_run_id
    assert "default.periodic_jobs" in defaults_fired  # the migrated defaults that are due at once fired too
    assert len(samples) == 18
    assert worker.status == "live"
