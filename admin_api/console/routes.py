"""Console pages. Each renders on the server from the same services the JSON API uses; buttons call
the JSON API from ``console.js``. Without a valid session a page answers 401 with the sign-in form."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from admin_api.auth.middleware import authenticate
from admin_api.console.pages import (
    bottlenecks_context,
    dead_letters_context,
    job_context,
    jobs_context,
    platform_context,
    queues_context,
    redis_context,
    tuning_context,
    workers_context,
)
from admin_api.console.session import clear_session, console_principal, login_page, session_cookie
from admin_api.context import ApiContext, Principal

__all__ = ["console_handlers"]

PageBuilder = Callable[[ApiContext, Request[Any, Any, Any]], Awaitable[dict[str, Any]]]
PAGES: dict[str, tuple[str, str]] = {  # path -> (template, nav title)
    "/jobs": ("jobs.html", "Jobs"),
    "/dead-letters": ("dead_letters.html", "Dead letters"),
    "/queues": ("queues.html", "Queues"),
    "/redis": ("redis.html", "Redis"),
    "/workers": ("workers.html", "Workers"),
    "/platform": ("platform.html", "Platform"),
    "/tuning": ("tuning.html", "Tuning"),
    "/bottlenecks": ("bottlenecks.html", "Bottlenecks"),
}


def _safe_next(path: str) -> str:
    """Only local paths: ``//host`` and ``/\\host`` would send the browser to another site."""
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else "/jobs"


async def _render(request: Request[Any, Any, Any], template: str, build: PageBuilder, active: str) -> Template:
    principal = await console_principal(request)
    if principal is None:
        return login_page(_safe_next(request.url.path))
    ctx: ApiContext = request.app.state.ctx
    context = await build(ctx, request)
    context.update(user=principal, active=active, nav=PAGES, data_json=_script_json(context.get("chart", {})))
    return Template(template, context=context)


def _script_json(data: Any) -> str:
    """JSON safe inside ``<script>``: ``<`` escaped so no value can close the element."""
    return json.dumps(data).replace("<", "\\u003c")


def _page(path: str, build: PageBuilder) -> Any:
    template, _ = PAGES[path]

    async def handler(request: Request[Any, Any, Any]) -> Template:
        return await _render(request, template, build, path)

    handler.__name__ = f"console_{template.split('.')[0]}"
    return get(path, include_in_schema=False, name=handler.__name__)(handler)


@get("/", include_in_schema=False)
async def home() -> Redirect:
    return Redirect("/jobs")


@get("/jobs/{run_id:int}", include_in_schema=False)
async def job_page(request: Request[Any, Any, Any], run_id: FromPath[int]) -> Template:
    return await _render(request, "job.html", lambda ctx, req: job_context(ctx, run_id), "/jobs")


@get("/login", include_in_schema=False)
async def login_form(next: FromQuery[str] = "/jobs") -> Template:
    return login_page(_safe_next(next), status_code=200)


@post("/login", include_in_schema=False)
async def login_submit(request: Request[Any, Any, Any], data: Annotated[dict[str, str], Body(
        media_type=RequestEncodingType.URL_ENCODED)]) -> Response[Any]:
    token = (data.get("token") or "").strip()
    target = _safe_next(data.get("next") or "/jobs")
    principal: Principal | None = await authenticate(request.app.state.ctx, token) if token else None
    if principal is None:
        return login_page(target, error="unknown or revoked token")
    return Redirect(target, status_code=303, cookies=[session_cookie(request, token)])


@post("/logout", include_in_schema=False)
async def logout() -> Response[Any]:
    response = Redirect("/login", status_code=303)
    clear_session(response)
    return response


def console_handlers() -> list[Any]:
    builders: dict[str, PageBuilder] = {
        "/jobs": jobs_context, "/dead-letters": dead_letters_context, "/queues": queues_context,
        "/redis": redis_context, "/workers": workers_context, "/platform": platform_context,
        "/tuning": tuning_context, "/bottlenecks": bottlenecks_context,
    }
    return [home, job_page, login_form, login_submit, logout, *(_page(p, b) for p, b in builders.items())]
