"""``POST /api/v1/tenants/{id}/test-connection`` against the CPI simulator: a token and a page of logs,
or the CPI error (wrong secret, unreachable host) — never the secret, never a 5xx."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.auth import AuditLog
from simulator.config import SimulatorConfig
from simulator.server import SimulatorServer, TenantEndpoint


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    config = SimulatorConfig(tenants=1, seed=5, rate=2.0, history_days=1, history_per_day=300,
                             start_ms=int(time.time() * 1000) - 60_000)
    with SimulatorServer(config) as server:
        yield server


@pytest.fixture
def cpi(sim: SimulatorServer) -> TenantEndpoint:
    return sim.tenant("tenant1")


async def _tenant(client: AsyncTestClient[Any], admin: dict[str, str], cpi: TenantEndpoint, **changes: Any) -> int:
    body = {"name": "sim", "api_url": cpi.api_url, "token_url": cpi.token_url, "client_id": cpi.client_id,
            "client_secret": cpi.client_secret, **changes}
    created = await client.post("/api/v1/tenants", json=body, headers=admin)
    assert created.status_code == 201, created.text
    tenant_id: int = created.json()["id"]
    return tenant_id


async def test_oauth_tenant_connects(client: AsyncTestClient[Any], admin: dict[str, str], cpi: TenantEndpoint,
                                     db: sessionmaker[Session]) -> None:
    tid = await _tenant(client, admin, cpi)
    response = await client.post(f"/api/v1/tenants/{tid}/test-connection", headers=admin)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] is True, result
    assert result["auth_type"] == "oauth"
    assert result["token_fetched"] is True
    assert 1 <= result["logs_on_page"] <= 10
    assert result["newest_log_end"] is not None
    assert result["error"] is None
    with db() as session:
        details = session.scalars(select(AuditLog.details).where(AuditLog.action == "tenant.test_connection")).one()
    assert details == {"ok": True, "error_type": None, "error_status": None}


async def test_basic_auth_tenant_connects(client: AsyncTestClient[Any], admin: dict[str, str],
                                          cpi: TenantEndpoint) -> None:
    tid = await _tenant(client, admin, cpi, auth_type="basic", token_url=None)
    result = (await client.post(f"/api/v1/tenants/{tid}/test-connection", headers=admin)).json()
    assert result["ok"] is True, result
    assert result["auth_type"] == "basic"
    assert result["token_fetched"] is False


async def test_wrong_secret_shows_the_cpi_error(client: AsyncTestClient[Any], admin: dict[str, str],
                                                cpi: TenantEndpoint) -> None:
    tid = await _tenant(client, admin, cpi, client_secret="wrong-s3cret-canary")
    response = await client.post(f"/api/v1/tenants/{tid}/test-connection", headers=admin)
    assert response.status_code == 200
    result = response.json()
    assert result["ok"] is False
    assert result["error_type"] == "CpiAuthError"
    assert result["error_status"] == 401
    assert "check the client id and secret" in result["error"]
    assert "wrong-s3cret-canary" not in response.text
    assert cpi.client_secret not in response.text


async def test_unreachable_host_is_a_result_not_a_server_error(client: AsyncTestClient[Any],
                                                               admin: dict[str, str], cpi: TenantEndpoint) -> None:
    tid = await _tenant(client, admin, cpi, api_url="http://127.0.0.1:9/api/v1", token_url="http://127.0.0.1:9/t")
    response = await client.post(f"/api/v1/tenants/{tid}/test-connection", headers=admin)
    assert response.status_code == 200
    result = response.json()
    assert result["ok"] is False
    assert result["error_type"] == "CpiTimeout"
    assert "connection failed" in result["error"]


async def test_roles_and_unknown_tenant(client: AsyncTestClient[Any], admin: dict[str, str],
                                        viewer: dict[str, str], cpi: TenantEndpoint) -> None:
    tid = await _tenant(client, admin, cpi)
    assert (await client.post(f"/api/v1/tenants/{tid}/test-connection", headers=viewer)).status_code == 403
    assert (await client.post("/api/v1/tenants/999/test-connection", headers=admin)).status_code == 404
    assert (await client.post("/api/v1/tenants/0/test-connection", headers=admin)).status_code == 400
