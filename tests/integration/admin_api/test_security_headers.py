"""Security headers on API and console responses; Swagger UI from local files only (issue 12, item 5)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from admin_api.security_headers import CSP

TEMPLATES = Path(__file__).parents[3] / "admin_api" / "console" / "templates"


async def test_every_response_carries_the_security_headers(
    client: AsyncTestClient[Any], admin: dict[str, str]
) -> None:
    for path, headers in [("/api/v1/jobs", admin), ("/login", {}), ("/api/v1/jobs", {}), ("/health/live", {}),
                          ("/jobs", {}), ("/static/console.js", {})]:
        response = await client.get(path, headers=headers)
        csp = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, path
        assert "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp, path
        assert response.headers.get("x-content-type-options") == "nosniff", path
        assert response.headers.get("referrer-policy") == "no-referrer", path
        assert "strict-transport-security" not in response.headers, path  # plain http here
        if not path.startswith("/static/"):
            assert response.headers.get("cache-control") == "no-store", path


async def test_hsts_on_https(app: Any, admin: dict[str, str]) -> None:
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
        response = await client.get("/api/v1/jobs", headers=admin)
        assert response.status_code == 200
        assert response.headers["strict-transport-security"].startswith("max-age=")


def test_console_templates_have_no_inline_script() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, f"{template.name}: inline script {tag}"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{template.name}: inline event handler"
        assert "javascript:" not in text, template.name


async def test_swagger_ui_is_served_from_our_own_files(client: AsyncTestClient[Any], admin: dict[str, str]) -> None:
    page = await client.get("/schema/swagger", headers=admin)
    assert page.status_code == 200, page.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources
    assert all(s.startswith("/") for s in sources), sources  # nothing from a CDN
    assert not re.search(r"<script>(?!</script>)|<script(?![^>]*src=)[^>]*>", page.text)  # no inline script
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
    assert CSP in page.headers["content-security-policy"]


async def test_swagger_ui_can_be_switched_off(settings: Any, admin_token: str) -> None:
    from dataclasses import replace

    from admin_api import create_app

    async with AsyncTestClient(app=create_app(replace(settings, swagger_ui=False), pool_size=2)) as client:
        headers = {"Authorization": f"Bearer {admin_token}"}
        assert (await client.get("/schema/swagger", headers=headers)).status_code == 404
        assert (await client.get("/schema/openapi.json", headers=headers)).status_code == 200
        assert (await client.get("/static/swagger/swagger-ui-bundle.js")).status_code == 404


async def test_auth_exemptions_are_exact_routes_not_prefixes(settings: Any, admin_token: str) -> None:
    """A future route that merely starts like a public one (``/login…``, ``/jobs…``, ``/health/…``,
    ``/static…``) is authenticated like every other route."""
    from litestar import get

    from admin_api import create_app
    from admin_api.area_routes import route_handlers
    from admin_api.auth.exemptions import PUBLIC_PATHS, console_page_paths, mark_exemptions

    @get("/login-as", include_in_schema=False)
    async def login_as() -> dict[str, str]:
        return {"who": "anyone"}

    @get("/jobsexport", include_in_schema=False)
    async def jobs_export() -> dict[str, str]:
        return {"rows": "all"}

    @get("/health/secrets", include_in_schema=False)
    async def health_secrets() -> dict[str, str]:
        return {"secret": "x"}

    @get("/staticky", include_in_schema=False)
    async def staticky() -> dict[str, str]:
        return {"x": "y"}

    app = create_app(settings, pool_size=2)
    for handler in (login_as, jobs_export, health_secrets, staticky):
        app.register(handler)
    async with AsyncTestClient(app=app) as client:
        for path in ("/login-as", "/jobsexport", "/health/secrets", "/staticky"):
            assert (await client.get(path)).status_code == 401, path
            assert (await client.get(path, headers={"Authorization": f"Bearer {admin_token}"})).status_code == 200
        assert (await client.get("/health/live")).status_code == 200
        assert (await client.get("/login")).status_code == 200
    marked = set(mark_exemptions(route_handlers()))
    assert marked == PUBLIC_PATHS | console_page_paths()
