"""Schedules whose arguments are sealed at rest (issue 12): the controller still fires them with the
real arguments (also fanned out per tenant), and a seal the configured key cannot open is skipped,
never fired with the redacted ``***`` copy."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from controller.schedules import ScheduleRunner
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.scheduling import JobConfig
from core.queues.serialization import decode_job
from core.resources import Resources
from core.schedules.arguments import stored_columns
from core.secrets import SecretBox
from tests.integration.controller.conftest import add_tenants

TOKEN = "canary-token-7f3a"
HOOK = "https://hooks.example/services/T1/canary-path-9c2e"
ARGS: dict[str, Any] = {"api_token": TOKEN, "callback": HOOK, "counter": "c"}


def _add(sessions: sessionmaker[Session], box: SecretBox, name: str, **values: Any) -> int:
    row = {"name": name, "function": "noop", "enabled": True, "interval_seconds": 60,
           "next_run_at": utcnow()} | stored_columns(ARGS, box) | values
    with sessions() as session, session.begin():
        return int(session.execute(insert(JobConfig).values(**row).returning(JobConfig.id)).scalar_one())


async def _job_kwargs(resources: Resources) -> list[dict[str, Any]]:
    with resources.sessions() as session:
        ids = list(session.scalars(select(WorkerJobRun.arq_job_id).order_by(WorkerJobRun.id)))
    out = []
    for job_id in ids:
        raw = await resources.redis.get(f"arq:job:{job_id}")
        assert raw is not None
        out.append(decode_job(raw)["k"])
    return out


async def test_sealed_schedule_fires_with_its_real_arguments(resources: Resources) -> None:
    box = SecretBox(resources.settings)
    tenants = add_tenants(resources.sessions, 2)
    single = _add(resources.sessions, box, "sealed")
    _add(resources.sessions, box, "sealed-fan-out", per_tenant=True)
    with resources.engine.connect() as conn:  # what anyone with SQL access (or a backup) sees
        stored = " ".join(str(v) for v in conn.execute(text("select * from job_config where id = :i"),
                                                        {"i": single}).one())
    assert TOKEN not in stored
    assert "canary-path" not in stored

    assert await ScheduleRunner(resources.sessions, resources.enqueuer, box).tick() == 2

    assert await _job_kwargs(resources) == [ARGS] + [ARGS | {"tenant_id": t} for t in tenants]


async def test_a_seal_the_key_cannot_open_is_skipped_not_fired_redacted(
        resources: Resources, caplog: pytest.LogCaptureFixture) -> None:
    other = SecretBox(dataclasses.replace(resources.settings, secret_key=Fernet.generate_key().decode()))
    config_id = _add(resources.sessions, other, "sealed-elsewhere")
    runner = ScheduleRunner(resources.sessions, resources.enqueuer, SecretBox(resources.settings))
    with caplog.at_level(logging.ERROR):
        assert await runner.tick() == 0
    assert await _job_kwargs(resources) == []
    assert any(f"schedule {config_id} skipped" in r.getMessage() for r in caplog.records)
