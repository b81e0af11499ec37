"""Schedule arguments: secret-named values and webhook URLs are redacted for everyone who reads them,
and stored sealed like the ledger's (issue 12, item 7); the controller and "run now" use the real ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from controller.schedules import ScheduleRunner
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.scheduling import JobConfig
from core.queues.serialization import decode_job
from core.resources import open_resources
from core.secrets import SecretBox
from core.settings import Settings

HOOK = "https://hooks.example/services/T000/B000/hook-secret-value"
ARGS = {"api_token": "hunter2", "target": HOOK, "counter": "c"}


async def test_schedule_arguments_are_redacted_and_sealed(
    client: AsyncTestClient[Any], admin: dict[str, str], viewer: dict[str, str], db: sessionmaker[Session],
    redis: Redis, settings: Settings
) -> None:
    created = await client.post("/api/v1/schedules", headers=admin,
                                json={"name": "hooky", "function": "noop", "interval_seconds": 60, "args": ARGS})
    assert created.status_code == 201, created.text
    for headers in (viewer, admin):
        listing = await client.get("/api/v1/schedules", headers=headers)
        assert "hunter2" not in listing.text
        assert "hook-secret-value" not in listing.text
        shown = listing.json()["items"][0]["args"]
        assert shown == {"api_token": "***", "target": "https://hooks.example/***", "counter": "c"}
    with db() as session:
        row = session.scalars(select(JobConfig)).one()
        assert "hunter2" not in str(row.args)
        assert row.args_sealed is not None
        assert "hunter2" not in row.args_sealed
    ran = await client.post(f"/api/v1/schedules/{row.id}/run", headers=admin)
    assert ran.status_code in (200, 201), ran.text
    raw = await redis.get(f"arq:job:{ran.json()['job_id']}")
    assert raw is not None
    assert decode_job(raw)["k"] == ARGS  # the job gets the real arguments

    with db() as session, session.begin():
        session.execute(update(JobConfig).values(next_run_at=utcnow() - timedelta(seconds=1)))
    async with open_resources(settings) as resources:
        fired = await ScheduleRunner(resources.sessions, resources.enqueuer, SecretBox(settings)).tick()
    assert fired == 1
    with db() as session:
        job_id = session.scalars(select(WorkerJobRun.arq_job_id).where(
            WorkerJobRun.dedup_key == f"schedule:{row.id}")).one()
        ledger_args = session.scalars(select(WorkerJobRun.args_redacted).where(
            WorkerJobRun.arq_job_id == job_id)).one()
    fired_raw = await redis.get(f"arq:job:{job_id}")
    assert fired_raw is not None
    assert decode_job(fired_raw)["k"] == ARGS
    assert "hook-secret-value" not in str(ledger_args)
