"""Bearer tokens: 401 without or with a bad token, 403 for viewers on changes, health stays open."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.auth import ApiToken, AuditLog
from core.secrets import hash_token

READ_ROUTES = [
    "/api/v1/jobs",
    "/api/v1/dead-letters",
    "/api/v1/metrics/queues",
    "/api/v1/redis-metrics",
    "/api/v1/worker-tuning",
    "/api/v1/workers",
    "/api/v1/tenants",
    "/api/v1/schedules",
    "/api/v1/audit",
    "/metrics",
    "/schema/openapi.json",
]


async def test_every_route_but_health_needs_a_token(client: AsyncTestClient[Any]) -> None:
    for path in READ_ROUTES:
        response = await client.get(path)
        assert response.status_code == 401, path
        response = await client.get(path, headers={"Authorization": "Bearer imt_not-a-real-token"})
        assert response.status_code == 401, path
    assert (await client.get("/health/live")).status_code == 200
    assert (await client.get("/login")).status_code == 200


async def test_malformed_authorization_header_is_401(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/api/v1/jobs", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]


async def test_viewer_reads_but_cannot_change(client: AsyncTestClient[Any], viewer: dict[str, str]) -> None:
    for path in READ_ROUTES:
        assert (await client.get(path, headers=viewer)).status_code == 200, path
    changes = [
        ("/api/v1/jobs", {"function": "noop"}),
        ("/api/v1/worker-tuning/apply", {"profile": "fast"}),
        ("/api/v1/jobs/1/retry", None),
        ("/api/v1/dead-letters/1/discard", None),
    ]
    for path, body in changes:
        response = await client.post(path, json=body, headers=viewer)
        assert response.status_code == 403, path
    me = await client.get("/api/v1/auth/me", headers=viewer)
    assert me.json() == {"name": "ops-viewer", "role": "viewer"}


async def test_tokens_are_stored_hashed(admin_token: str, db: sessionmaker[Session]) -> None:
    with db() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.name == "ops-admin")).one()
    assert row.token_hash == hash_token(admin_token)
    assert admin_token not in row.token_hash


async def test_changes_are_audited_with_the_token_name(
    client: AsyncTestClient[Any], admin: dict[str, str], db: sessionmaker[Session]
) -> None:
    response = await client.post("/api/v1/worker-tuning/apply", json={"profile": "safe"}, headers=admin)
    assert response.status_code == 200, response.text
    with db() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action != "token.create")).one()
    assert (entry.actor, entry.action) == ("ops-admin", "tuning.apply")
    assert entry.details["profile"] == "safe"
    listed = (await client.get("/api/v1/audit", headers=admin)).json()["items"]
    assert listed[0]["actor"] == "ops-admin"


async def test_every_change_route_refuses_viewers_and_anonymous(
        client: AsyncTestClient[Any], viewer: dict[str, str]) -> None:
    schema = client.app.openapi_schema.to_schema()
    read_only_posts = {"/api/v1/worker-tuning/preview"}
    changes = [(method, re.sub(r"\{[^}]+\}", "1", path))
               for path, item in schema["paths"].items() for method in item
               if method in {"post", "patch", "put", "delete"} and path not in read_only_posts]
    assert len(changes) >= 14
    for method, path in changes:
        anonymous = await client.request(method.upper(), path, json={})
        assert anonymous.status_code == 401, (method, path)
        as_viewer = await client.request(method.upper(), path, json={}, headers=viewer)
        assert as_viewer.status_code == 403, (method, path, as_viewer.text)
