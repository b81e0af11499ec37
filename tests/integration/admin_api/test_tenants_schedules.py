"""Tenants (write-only secrets, disable) and schedules (create, pause, run now)."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.auth import AuditLog
from core.db.models.scheduling import JobRun
from core.db.models.tenants import Tenant
from core.secrets import SecretBox
from core.settings import Settings

TENANT = {
    "name": "acme-prod",
    "api_url": "https://acme.example/api/v1",
    "client_id": "sb-client",
    "client_secret": "s3cr3t-value",
    "token_url": "https://acme.example/oauth/token",
}


async def test_tenant_secret_is_write_only(
    client: AsyncTestClient[Any], admin: dict[str, str], settings: Settings, db: sessionmaker[Session]
) -> None:
    created = await client.post("/api/v1/tenants", json=TENANT, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["has_secret"] is True
    assert "s3cr3t" not in created.text
    tid = body["id"]
    updated = await client.patch(
        f"/api/v1/tenants/{tid}", json={"client_secret": "n3w-value", "rate_limit_per_s": 5}, headers=admin
    )
    assert updated.status_code == 200
    assert "n3w" not in updated.text
    disabled = (await client.post(f"/api/v1/tenants/{tid}/disable", headers=admin)).json()
    assert disabled["active"] is False
    listing = await client.get("/api/v1/tenants", headers=admin)
    assert "n3w" not in listing.text
    assert "client_secret" not in listing.text
    with db() as session:
        row = session.get(Tenant, tid)
        assert row is not None
        assert SecretBox(settings).decrypt(row.client_secret_encrypted) == "n3w-value"
        audit_text = str(session.scalars(select(AuditLog.details)).all())
    assert "n3w" not in audit_text
    assert "s3cr3t" not in audit_text


async def test_tenant_bad_input_and_conflicts(client: AsyncTestClient[Any], admin: dict[str, str]) -> None:
    bad = await client.post("/api/v1/tenants", json={**TENANT, "api_url": "not a url"}, headers=admin)
    assert bad.status_code == 400
    assert "api_url" in bad.text
    missing = await client.post("/api/v1/tenants", json={"name": "x"}, headers=admin)
    assert missing.status_code == 400
    assert (await client.post("/api/v1/tenants", json=TENANT, headers=admin)).status_code == 201
    assert (await client.post("/api/v1/tenants", json=TENANT, headers=admin)).status_code == 409
    assert (await client.patch("/api/v1/tenants/999", json={"active": True}, headers=admin)).status_code == 404


async def test_schedule_create_pause_run_now(
    client: AsyncTestClient[Any], admin: dict[str, str], db: sessionmaker[Session]
) -> None:
    created = await client.post(
        "/api/v1/schedules", json={"name": "nightly-noop", "function": "noop", "cron": "0 2 * * *"}, headers=admin
    )
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    assert created.json()["next_run_at"] is not None
    paused = (await client.post(f"/api/v1/schedules/{sid}/pause", headers=admin)).json()
    assert paused["enabled"] is False
    ran = await client.post(f"/api/v1/schedules/{sid}/run", headers=admin)
    assert ran.status_code == 201, ran.text
    job = (await client.get(f"/api/v1/jobs/{ran.json()['run_id']}", headers=admin)).json()
    assert job["function"] == "noop"
    assert job["status"] == "queued"
    with db() as session:
        assert session.scalars(select(JobRun.worker_job_run_id)).all() == [job["id"]]
    for body, field in [
        ({"name": "a", "function": "noop", "cron": "every day"}, "cron"),
        ({"name": "b", "function": "noop"}, "cron"),
        ({"name": "c", "function": "nope", "interval_seconds": 60}, "function"),
    ]:
        response = await client.post("/api/v1/schedules", json=body, headers=admin)
        assert response.status_code == 400, response.text
        assert field in response.text
    assert (await client.post("/api/v1/schedules/77/run", headers=admin)).status_code == 404
