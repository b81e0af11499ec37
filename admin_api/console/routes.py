"""Console pages. Each renders on the server from the same services the JSON API uses; buttons call
the JSON API from the scripts in ``static/``. Without a valid session a page answers 401 with the
sign-in form.

:data:`PAGES` is the one table of console pages: the navigation, the route handlers and the auth
exemption all come from it. Every handler made here carries ``exclude_from_auth`` (the Bearer
middleware leaves it alone, because the page signs its visitor in itself) and ``console`` in its
``opt``, so no list of console paths is kept anywhere else.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from admin_api.console.alert_pages import alert_context, alert_rules_context, alerts_context
from admin_api.console.operator_pages import (
    chat_context,
    controller_context,
    schedules_context,
    settings_context,
    tenants_context,
)
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
from admin_api.console.session import console_principal, login_page, sign_in, sign_out
from admin_api.context import ApiContext
from admin_api.errors import NotFound

__all__ = ["CONSOLE_OPT", "NAV", "PAGES", "ConsolePage", "console_handlers"]

PageBuilder = Callable[[ApiContext, Request[Any, Any, Any]], Awaitable[dict[str, Any]]]
CONSOLE_OPT: dict[str, Any] = {"exclude_from_auth": True, "console": True}


@dataclass(frozen=True, slots=True)
class ConsolePage:
    """One page: its path (Litestar syntax), template, data builder and navigation entry."""

    path: str
    template: str
    build: PageBuilder
    title: str | None = None  # the navigation entry; None for a detail page
    section: str | None = None  # the navigation entry a detail page belongs to

    @property
    def active(self) -> str:
        return self.section or self.path


async def _job(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    return await job_context(ctx, int(request.path_params["run_id"]))


PAGES: tuple[ConsolePage, ...] = (
    ConsolePage("/jobs", "jobs.html", jobs_context, "Jobs"),
    ConsolePage("/jobs/{run_id:int}", "job.html", _job, section="/jobs"),
    ConsolePage("/dead-letters", "dead_letters.html", dead_letters_context, "Dead letters"),
    ConsolePage("/schedules", "schedules.html", schedules_context, "Schedules"),
    ConsolePage("/alerts", "alerts.html", alerts_context, "Alerts"),
    ConsolePage("/alerts/{alert_id:int}", "alert.html", alert_context, section="/alerts"),
    ConsolePage("/alert-rules", "alert_rules.html", alert_rules_context, section="/alerts"),
    ConsolePage("/tenants", "tenants.html", tenants_context, "Tenants"),
    ConsolePage("/queues", "queues.html", queues_context, "Queues"),
    ConsolePage("/workers", "workers.html", workers_context, "Workers"),
    ConsolePage("/controller", "controller.html", controller_context, "Controller"),
    ConsolePage("/redis", "redis.html", redis_context, "Redis"),
    ConsolePage("/platform", "platform.html", platform_context, "Platform"),
    ConsolePage("/tuning", "tuning.html", tuning_context, "Tuning"),
    ConsolePage("/bottlenecks", "bottlenecks.html", bottlenecks_context, "Bottlenecks"),
    ConsolePage("/settings", "settings.html", settings_context, "Settings"),
    ConsolePage("/chat", "chat.html", chat_context, "Chat"),
)
NAV: tuple[tuple[str, str], ...] = tuple((p.path, p.title) for p in PAGES if p.title)


def _safe_next(path: str) -> str:
    """Only local paths: ``//host`` and ``/\\host`` would send the browser to another site."""
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else "/jobs"


def _script_json(data: Any) -> str:
    """JSON safe inside ``<script>``: ``<`` escaped so no value can close the element."""
    return json.dumps(data, default=str).replace("<", "\\u003c")


async def _render(request: Request[Any, Any, Any], page: ConsolePage) -> Template:
    principal = await console_principal(request)
    if principal is None:  # back to this very page (query included) after signing in
        query = request.url.query
        return login_page(_safe_next(request.url.path + (f"?{query}" if query else "")))
    ctx: ApiContext = request.app.state.ctx
    request.state.principal = principal  # for pages that show more to admins (alert rule channels)
    try:
        context = await page.build(ctx, request)
    except NotFound as exc:
        return Template("not_found.html", status_code=404, context={
            "message": exc.detail, "back": page.active, "user": principal, "active": page.active, "nav": NAV})
    context.update(user=principal, active=page.active, nav=NAV, data_json=_script_json(context.pop("page_data", {})))
    return Template(page.template, context=context)


def _page_handler(page: ConsolePage) -> Any:
    async def handler(request: Request[Any, Any, Any]) -> Template:
        return await _render(request, page)

    name = "console_" + page.template.split(".")[0]
    handler.__name__ = name
    return get(page.path, include_in_schema=False, name=name, opt=CONSOLE_OPT)(handler)


@get("/", include_in_schema=False, opt=CONSOLE_OPT)
async def home() -> Redirect:
    return Redirect("/jobs")


@get("/login", include_in_schema=False, opt=CONSOLE_OPT)
async def login_form(next: FromQuery[str] = "/jobs") -> Template:
    return login_page(_safe_next(next), status_code=200)


@post("/login", include_in_schema=False, opt=CONSOLE_OPT)
async def login_submit(request: Request[Any, Any, Any], data: Annotated[dict[str, str], Body(
        media_type=RequestEncodingType.URL_ENCODED)]) -> Response[Any]:
    token = (data.get("token") or "").strip()
    target = _safe_next(data.get("next") or "/jobs")
    cookie = await sign_in(request, token)  # a server-side session; the cookie never holds the token
    if cookie is None:
        return login_page(target, error="unknown or revoked token, or expired")
    return Redirect(target, status_code=303, cookies=[cookie])


@post("/logout", include_in_schema=False, opt=CONSOLE_OPT)
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    response = Redirect("/login", status_code=303)
    await sign_out(request, response)
    return response


def console_handlers() -> list[Any]:
    return [home, login_form, login_submit, logout, *(_page_handler(p) for p in PAGES)]
