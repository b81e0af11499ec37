"""``create_app(settings)``: the Litestar app serving the JSON API, Prometheus text and the console."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from admin_api.area_routes import route_handlers
from admin_api.auth.exemptions import STATIC_OPT, mark_exemptions
from admin_api.auth.middleware import BearerAuthMiddleware
from admin_api.context import ApiContext
from admin_api.errors import exception_handlers
from admin_api.health.watch import watch_dependencies
from admin_api.jobs.pg_pages import PgLedgerPages
from admin_api.observability.api_stats import ApiStatsMiddleware
from admin_api.openapi_doc import CompletedJsonPlugin
from admin_api.security_headers import add_security_headers
from admin_api.swagger import SWAGGER_ASSETS, LocalSwaggerPlugin
from core.closing import close_within, stop_task
from core.db.session import normalise_url
from core.resources import open_resources
from core.secrets import SecretBox
from core.settings import Settings

__all__ = ["create_app"]

CONSOLE_DIR = Path(__file__).parent / "console"


def _lifespan(settings: Settings, pool_size: int) -> Any:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # no start-up check: the API starts while Redis or the database is down and answers 503 until they return
        async with open_resources(settings, pool_size=pool_size, check=False) as resources:
            pages = _ledger_pages(settings)
            if pages is not None:
                await pages.open()
            ctx = ApiContext(settings=settings, resources=resources, secrets=SecretBox(settings), ledger_pages=pages)
            app.state.ctx = ctx
            flusher = asyncio.create_task(ctx.stats.run(resources.redis))
            watch = asyncio.create_task(watch_dependencies(resources.redis, resources.engine))
            try:
                yield
            finally:
                await stop_task("API request statistics flusher", flusher)
                await stop_task("dependency watch", watch)
                if pages is not None:
                    await close_within("jobs list pool", pages.close())

    return lifespan


def _ledger_pages(settings: Settings) -> PgLedgerPages | None:
    """The PostgreSQL fast path for the jobs list (None on SQLite)."""
    url = normalise_url(settings.resolved_database_url)
    if not url.startswith("postgresql+psycopg://"):
        return None
    return PgLedgerPages("postgresql://" + url.split("://", 1)[1], size=4)


async def _forget_pages_after_changes(request: Request[Any, Any, Any]) -> None:
    """A change made through this API shows in the next jobs list (no reused page)."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        ctx: ApiContext | None = getattr(request.app.state, "ctx", None)
        if ctx is not None and ctx.ledger_pages is not None:
            ctx.ledger_pages.forget()


def _provide_ctx(state: State) -> ApiContext:
    ctx: ApiContext = state.ctx
    return ctx


def create_app(settings: Settings, *, pool_size: int = 10) -> Litestar:
    """Build the app; connections open on startup and close on shutdown (lifespan)."""
    openapi = OpenAPIConfig(
        title="IntegraMon Runtime admin API", version="1.0.0", path="/schema",
        components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
        security=[{"bearer": []}],
        # only our own renderers: the JSON document, and Swagger UI from local files (or none)
        render_plugins=[CompletedJsonPlugin(), *([LocalSwaggerPlugin()] if settings.swagger_ui else [])],
    )
    static = [create_static_files_router("/static/swagger", [SWAGGER_ASSETS], include_in_schema=False,
                                          name="swagger_assets", opt=STATIC_OPT)] if settings.swagger_ui else []
    handlers = route_handlers()
    mark_exemptions(handlers)  # exact paths from the route table, never prefixes
    return Litestar(
        route_handlers=[*handlers, *static, create_static_files_router("/static", [CONSOLE_DIR / "static"],
                                                                       include_in_schema=False, opt=STATIC_OPT)],
        dependencies={"ctx": Provide(_provide_ctx, sync_to_thread=False)},
        middleware=[
            ApiStatsMiddleware(),
            DefineMiddleware(BearerAuthMiddleware),  # exemptions: exact paths marked per handler (auth/exemptions)
        ],
        exception_handlers=exception_handlers,
        openapi_config=openapi,
        template_config=TemplateConfig(directory=CONSOLE_DIR / "templates", engine=JinjaTemplateEngine),
        lifespan=[_lifespan(settings, pool_size)],
        after_response=_forget_pages_after_changes,
        before_send=[add_security_headers],
        debug=False,
    )
