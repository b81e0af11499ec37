"""Tenant endpoints cannot be redirected to exfiltrate the stored client secret (issue 12, item 2)."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.auth import AuditLog
from core.db.models.tenants import Tenant
from core.secrets import SecretBox
from core.settings import Settings

TENANT = {"name": "acme", "api_url": "https://acme.example/api/v1", "client_id": "sb-client",
          "client_secret": "s3cr3t-value", "token_url": "https://acme.example/oauth/token"}


async def _create(client: AsyncTestClient[Any], admin: dict[str, str], **over: Any) -> int:
    created = await client.post("/api/v1/tenants", json={**TENANT, **over}, headers=admin)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


async def test_moving_an_endpoint_without_the_secret_is_refused(
    client: AsyncTestClient[Any], admin: dict[str, str], settings: Settings, db: sessionmaker[Session]
) -> None:
    tid = await _create(client, admin)
    for field in ("api_url", "token_url"):
        moved = await client.patch(f"/api/v1/tenants/{tid}", json={field: "https://evil.example/x"}, headers=admin)
        assert moved.status_code == 400, moved.text
        assert moved.json()["field"] == "client_secret"
        assert field in moved.json()["detail"]
    unchanged = await client.patch(f"/api/v1/tenants/{tid}", json={"api_url": TENANT["api_url"]}, headers=admin)
    assert unchanged.status_code == 200  # the same URL again moves nothing
    with_secret = await client.patch(f"/api/v1/tenants/{tid}", headers=admin, json={
        "api_url": "https://new.example:8443/api", "client_secret": "fresh-secret"})
    assert with_secret.status_code == 200, with_secret.text
    with db() as session:
        row = session.get(Tenant, tid)
        assert row is not None
        assert row.api_url == "https://new.example:8443/api"
        assert SecretBox(settings).decrypt(row.client_secret_encrypted) == "fresh-secret"
        entries = session.scalars(select(AuditLog).where(AuditLog.action == "tenant.update")).all()
    details = [e.details for e in entries]
    assert {"old_host": "acme.example", "new_host": "new.example:8443"} in [d.get("api_url") for d in details]
    assert "fresh-secret" not in str(details)


async def test_plain_http_only_for_allowed_hosts(client: AsyncTestClient[Any], admin: dict[str, str]) -> None:
    for field in ("api_url", "token_url"):
        plain = await client.post("/api/v1/tenants", json={**TENANT, field: "http://cpi.example/api"}, headers=admin)
        assert plain.status_code == 400, plain.text
        assert plain.json()["field"] == field
        assert "https://" in plain.json()["detail"]
    userinfo = await client.post("/api/v1/tenants", headers=admin,
                                 json={**TENANT, "api_url": "https://u:p@cpi.example/api"})
    assert userinfo.status_code == 400
    assert userinfo.json()["field"] == "api_url"
    tid = await _create(client, admin, api_url="http://127.0.0.1:9999/api", token_url="http://localhost:9999/t")
    downgrade = await client.patch(f"/api/v1/tenants/{tid}", headers=admin,
                                   json={"token_url": "http://acme.example/t", "client_secret": "x"})
    assert downgrade.status_code == 400
    assert downgrade.json()["field"] == "token_url"


async def test_an_operator_can_allow_a_plain_http_host(
    settings: Settings, db: sessionmaker[Session], admin_token: str
) -> None:
    from dataclasses import replace

    from admin_api import create_app

    app = create_app(replace(settings, cpi_plain_http_hosts="loopback,simulator"), pool_size=2)
    async with AsyncTestClient(app=app) as client:
        headers = {"Authorization": f"Bearer {admin_token}"}
        ok = await client.post("/api/v1/tenants", headers=headers,
                               json={**TENANT, "api_url": "http://simulator:8080/api", "token_url": None})
        assert ok.status_code == 201, ok.text
        other = await client.post("/api/v1/tenants", headers=headers,
                                  json={**TENANT, "name": "b", "api_url": "http://other:8080/api"})
        assert other.status_code == 400
