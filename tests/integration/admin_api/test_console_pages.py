"""Every console page, taken from the app's route table: signed out it answers the sign-in page (never
a JSON 401), signed in it renders; and no API route is exempt from the token check by accident."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlalchemy.orm import Session, sessionmaker

from admin_api.auth.exemptions import PUBLIC_PATHS, STATIC_OPT
from admin_api.console.routes import NAV, PAGES
from tests.integration.admin_api.conftest import bearer, seed_alert

PARAM = re.compile(r"\{(\w+):\w+\}")


def console_get_paths(app: Litestar) -> list[str]:
    """GET paths of every handler the console marks as its own (path parameters filled with 1)."""
    paths = []
    for route in app.routes:
        assert isinstance(route, HTTPRoute)
        for handler in route.route_handlers:
            if handler.opt.get("console") and "GET" in getattr(handler, "http_methods", ()):
                paths.append(PARAM.sub("1", route.path))
    return sorted(set(paths))


async def sign_in(client: AsyncTestClient[Any], token: str) -> None:
    response = await client.post("/login", data={"token": token, "next": "/jobs"}, follow_redirects=False)
    assert response.status_code == 303, response.text


async def test_every_console_page_sends_signed_out_visitors_to_sign_in(
        app: Litestar, client: AsyncTestClient[Any]) -> None:
    paths = console_get_paths(app)
    for page in PAGES:  # the table and the routes are the same list
        assert PARAM.sub("1", page.path) in paths, page.path
    assert "/platform" in paths
    assert "/controller" in paths
    assert "/chat" in paths
    for path in paths:
        if path in ("/", "/login"):
            continue
        response = await client.get(path)
        assert response.status_code == 401, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert "Sign in" in response.text, path
        assert f'name="next" value="{path}"' in response.text, path
    assert (await client.get("/", follow_redirects=False)).headers["location"] == "/jobs"
    filtered = await client.get("/alerts?status=open&tenant_id=2")
    assert 'name="next" value="/alerts?status=open&amp;tenant_id=2"' in filtered.text


async def test_only_console_pages_skip_the_token_check(app: Litestar, client: AsyncTestClient[Any]) -> None:
    """Console handlers opt out of the Bearer middleware (and redirects to console pages, which leak
    nothing); every API route still answers JSON 401."""
    console_pages = {PARAM.sub("1", p.path) for p in PAGES}
    for route in app.routes:
        assert isinstance(route, HTTPRoute)
        for handler in route.route_handlers:
            if not handler.opt.get("exclude_from_auth"):
                continue
            assert not route.path.startswith(("/api/", "/metrics", "/schema")), route.path
            if route.path in PUBLIC_PATHS or handler.opt == STATIC_OPT:
                continue  # health probes, sign-in/out and static assets (exact paths, auth/exemptions.py)
            if not handler.opt.get("console"):
                response = await client.get(PARAM.sub("1", route.path), follow_redirects=False)
                assert response.is_redirect, route.path
                assert response.headers["location"].split("?")[0] in console_pages, route.path
    for path in ("/api/v1/controller", "/api/v1/chat", "/api/v1/chat/1", "/api/v1/tenants"):
        response = await client.get(path)
        assert response.status_code == 401, path
        assert response.headers["content-type"].startswith("application/json"), path


async def test_every_navigation_page_renders_when_signed_in(
        client: AsyncTestClient[Any], admin_token: str, admin: dict[str, str]) -> None:
    await client.post("/api/v1/jobs", json={"function": "noop"}, headers=bearer(admin_token))
    await sign_in(client, admin_token)
    for path, title in NAV:
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        assert f'<a href="{path}" class="active">{title}</a>' in response.text, path
    job = await client.get("/jobs/1")
    assert job.status_code == 200
    assert 'class="active">Jobs</a>' in job.text


async def test_detail_pages_show_their_data(client: AsyncTestClient[Any], admin_token: str, viewer_token: str,
                                            db: sessionmaker[Session]) -> None:
    created = await client.post("/api/v1/tenants", headers=bearer(admin_token), json={
        "name": "acme", "api_url": "https://acme.example/api/v1", "client_id": "c", "client_secret": "s3cr3t"})
    alert_id = seed_alert(db, created.json()["id"])
    await sign_in(client, viewer_token)
    page = await client.get(f"/alerts/{alert_id}")
    assert page.status_code == 200
    assert "2 failed messages in 15 minutes" in page.text
    assert "HTTP 503 from S/4\nat step 3" in page.text  # the stored error text, whole
    assert f'href="/api/v1/alerts/{alert_id}/samples/guid-with-text"' in page.text
    assert "no error text stored" in page.text
    assert "not stored yet" in page.text
    rules = await client.get("/alert-rules")
    assert rules.status_code == 200
    assert "https://hooks.example/…" in rules.text
    assert "secret-path" not in rules.text  # viewers see channel targets redacted
    listing = await client.get("/alerts?status=open")
    assert f'href="/alerts/{alert_id}"' in listing.text
    bad = await client.get("/alerts?status=sleeping&tenant_id=x")
    assert bad.status_code == 200
    assert "status: one of open, acknowledged, resolved" in bad.text
    missing = await client.get("/alerts/999999")
    assert missing.status_code == 404
    assert "no alert with id 999999" in missing.text
    assert "Sign in" not in missing.text

    await sign_in(client, admin_token)
    assert "secret-path" in (await client.get("/alert-rules")).text  # admins edit the real target


async def test_page_values_are_escaped(client: AsyncTestClient[Any], admin_token: str) -> None:
    """Names typed by operators reach pages as text, in elements and in data attributes alike."""
    evil = "<img src=x onerror=alert(1)>'\""
    created = await client.post("/api/v1/tenants", headers=bearer(admin_token), json={
        "name": evil, "api_url": "https://acme.example/api/v1", "client_id": "c", "client_secret": "s"})
    assert created.status_code == 201
    await client.post("/api/v1/chat", headers=bearer(admin_token), json={"question": evil})
    await sign_in(client, admin_token)
    for path in ("/tenants", "/alert-rules", "/chat", "/chat?conversation=1", "/settings"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert "<img src=x" not in page.text, path
    schema = (await client.get("/schema/openapi.json", headers=bearer(admin_token))).json()
    for path in ("/api/v1/chat", "/api/v1/chat/{conversation_id}", "/api/v1/tenants/{tenant_id}/test-connection",
                 "/api/v1/controller"):
        assert path in schema["paths"], path


async def test_schedules_page_redacts_report_targets_for_viewers(
        client: AsyncTestClient[Any], admin_token: str, viewer_token: str) -> None:
    tenant = await client.post("/api/v1/tenants", headers=bearer(admin_token), json={
        "name": "acme", "api_url": "https://acme.example/api/v1", "client_id": "c", "client_secret": "s"})
    created = await client.post("/api/v1/schedules", headers=bearer(admin_token), json={
        "name": "daily digest", "function": "run_agent_report_task", "tenant_id": tenant.json()["id"],
        "cron": "0 7 * * *", "args": {"delivery": "webhook", "target": "https://hooks.example/private-x"}})
    assert created.status_code == 201, created.text
    await sign_in(client, viewer_token)
    page = (await client.get("/schedules")).text
    assert "daily digest" in page
    assert "private-x" not in page
    assert "https://hooks.example/…" in page
    await sign_in(client, admin_token)
    assert "private-x" in (await client.get("/schedules")).text
