"""The tuning advisor in the API: preview estimates and warns; apply against a warning needs an
explicit, audited confirmation."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controller.pressure import PressureSampler
from core.db.models.auth import AuditLog
from core.db.models.tuning import WorkerTuningSettings
from core.resources import open_resources
from core.settings import Settings
from tests.integration.controller.test_pressure_sampler import seed_backlog


async def sample(settings: Settings, *, throttled: bool) -> None:
    async with open_resources(settings) as resources:
        seed_backlog(resources, throttled=throttled)
        await PressureSampler(settings, resources.engine, resources.sessions, resources.redis).tick()


async def test_preview_warns_against_raising_light_while_cpi_throttles(
    client: AsyncTestClient[Any], viewer: dict[str, str], settings: Settings,
) -> None:
    await sample(settings, throttled=True)
    reply = await client.post("/api/v1/worker-tuning/preview", json={"profile": "balanced", "overrides": {"light": 6}},
                              headers=viewer)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    groups = {g["group"]: g for g in body["groups"]}
    assert groups["light"]["adds"]["slots"] == 4  # 2 -> 6 on the one live worker
    assert groups["light"]["adds"]["db_connections"] == 4
    assert groups["light"]["adds"]["cpi_requests_per_s"] > 0
    assert groups["ai"]["adds"] is None
    (warning,) = body["warnings"]
    assert warning.startswith("CPI is throttling tenant tenant-")
    assert "raising light adds requests it will refuse" in warning


async def test_preview_without_pressure_has_no_warnings(client: AsyncTestClient[Any], viewer: dict[str, str],
                                                        settings: Settings) -> None:
    await sample(settings, throttled=False)
    reply = await client.post("/api/v1/worker-tuning/preview", json={"profile": "balanced", "overrides": {"light": 3}},
                              headers=viewer)
    assert reply.json()["warnings"] == []


async def test_apply_against_a_warning_needs_confirmation_and_is_audited(
    client: AsyncTestClient[Any], admin: dict[str, str], settings: Settings, db: sessionmaker[Session],
) -> None:
    await sample(settings, throttled=True)
    change = {"profile": "balanced", "overrides": {"light": 6}}
    refused = await client.post("/api/v1/worker-tuning/apply", json=change, headers=admin)
    assert refused.status_code == 409, refused.text
    assert refused.json()["warnings"][0].startswith("CPI is throttling tenant")
    with db() as session:
        row = session.get(WorkerTuningSettings, 1)
        assert row is not None
        assert row.overrides == {}
    applied = await client.post("/api/v1/worker-tuning/apply", json={**change, "confirm_warnings": True},
                                headers=admin)
    assert applied.status_code == 200, applied.text
    with db() as session:
        entry = session.execute(select(AuditLog).where(AuditLog.action == "tuning.apply")).scalar_one()
    assert entry.details["confirmed_warnings"] is True
    assert entry.details["warnings"][0].startswith("CPI is throttling tenant")
