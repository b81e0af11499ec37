"""Schedule arguments: secret-named values and webhook URLs are redacted for viewers (issue 12, item 7)
and sealed at rest (the ``job_config`` row never holds them); admins and the job itself get the real ones."""

from __future__ import annotations

import dataclasses
from typing import Any

from cryptography.fernet import Fernet
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.scheduling import JobConfig
from core.queues.serialization import decode_job
from core.schedules.arguments import store_arguments
from core.secrets import SecretBox
from core.settings import Settings

HOOK = "https://hooks.example/services/T000/B000/hook-secret-value"
ARGS = {"api_token": "hunter2", "callback": HOOK, "counter": "c"}
SECRETS = ("hunter2", "hook-secret-value", "second-token", "report-hook-path")


def _stored_rows(engine: Engine) -> str:
    """Every column of every schedule row, as text: what SQL access or a backup would show."""
    with engine.connect() as conn:
        return "\n".join(" ".join(str(v) for v in row) for row in conn.execute(text("select * from job_config")))


async def test_schedule_arguments_are_redacted_for_viewers(
    client: AsyncTestClient[Any], admin: dict[str, str], viewer: dict[str, str], redis: Redis
) -> None:
    created = await client.post("/api/v1/schedules", headers=admin,
                                json={"name": "hooky", "function": "noop", "interval_seconds": 60, "args": ARGS})
    assert created.status_code == 201, created.text
    listing = await client.get("/api/v1/schedules", headers=viewer)
    assert "hunter2" not in listing.text
    assert "hook-secret-value" not in listing.text
    shown = next(s for s in listing.json()["items"] if s["name"] == "hooky")["args"]
    assert shown == {"api_token": "***", "callback": "https://hooks.example/***", "counter": "c"}
    mine = next(s for s in (await client.get("/api/v1/schedules", headers=admin)).json()["items"]
                if s["name"] == "hooky")
    assert mine["args"] == ARGS
    ran = await client.post(f"/api/v1/schedules/{mine['id']}/run", headers=admin)
    assert ran.status_code in (200, 201), ran.text
    raw = await redis.get(f"arq:job:{ran.json()['job_id']}")
    assert raw is not None
    assert decode_job(raw)["k"] == ARGS  # the job gets the real arguments


async def test_schedule_arguments_are_sealed_in_the_database(
    client: AsyncTestClient[Any], admin: dict[str, str], viewer: dict[str, str], redis: Redis, pg_engine: Engine
) -> None:
    created = await client.post("/api/v1/schedules", headers=admin,
                                json={"name": "sealed", "function": "noop", "interval_seconds": 60, "args": ARGS})
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    report = await client.post("/api/v1/schedules", headers=admin, json={
        "name": "digest", "function": "run_agent_report_task", "interval_seconds": 3600,
        "args": {"delivery": "webhook", "target": "https://hooks.example/report-hook-path"}})
    assert report.status_code == 201, report.text
    stored = _stored_rows(pg_engine)
    assert not [s for s in SECRETS if s in stored]
    assert "https://hooks.example/***" in stored  # the redacted copy stays readable

    changed = await client.patch(f"/api/v1/schedules/{sid}", headers=admin,
                                 json={"args": ARGS | {"api_token": "second-token"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["args"]["api_token"] == "second-token"  # admins see the real arguments
    assert not [s for s in SECRETS if s in _stored_rows(pg_engine)]
    viewed = next(s for s in (await client.get("/api/v1/schedules", headers=viewer)).json()["items"]
                  if s["id"] == sid)
    assert viewed["args"] == {"api_token": "***", "callback": "https://hooks.example/***", "counter": "c"}

    ran = await client.post(f"/api/v1/schedules/{sid}/run", headers=admin)
    assert ran.status_code == 201, ran.text
    raw = await redis.get(f"arq:job:{ran.json()['job_id']}")
    assert raw is not None
    assert decode_job(raw)["k"] == ARGS | {"api_token": "second-token"}


async def test_a_seal_the_key_cannot_open_shows_redacted_and_is_not_run(
    client: AsyncTestClient[Any], admin: dict[str, str], viewer: dict[str, str], db: sessionmaker[Session],
    settings: Settings
) -> None:
    other = SecretBox(dataclasses.replace(settings, secret_key=Fernet.generate_key().decode()))
    with db.begin() as session:
        config = JobConfig(name="old key", function="noop", interval_seconds=60)
        store_arguments(config, ARGS, other)  # e.g. sealed before INTEGRAMON_SECRET_KEY was replaced
        session.add(config)
        session.flush()
        sid = config.id
    for who in (admin, viewer):
        listing = await client.get("/api/v1/schedules", headers=who)
        assert listing.status_code == 200, listing.text
        shown = next(s for s in listing.json()["items"] if s["id"] == sid)["args"]
        assert shown == {"api_token": "***", "callback": "https://hooks.example/***", "counter": "c"}
    ran = await client.post(f"/api/v1/schedules/{sid}/run", headers=admin)
    assert ran.status_code == 409
    assert "INTEGRAMON_SECRET_KEY" in ran.text
