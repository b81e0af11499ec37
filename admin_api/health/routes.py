"""``/health/live`` (the process answers) and ``/health/ready`` (it can do its work): no auth."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec

from admin_api.context import Ctx
from admin_api.health.schemas import Liveness, Readiness
from admin_api.health.services import readiness

__all__ = ["live", "ready"]


@get("/health/live", tags=["health"], security=[{}], summary="Liveness")
async def live() -> Liveness:
    return Liveness(status="ok")


@get("/health/ready", tags=["health"], security=[{}], summary="Database, Redis and a healthy controller leader",
     responses={503: ResponseSpec(data_container=Readiness, description="not ready (the body says why)")})
async def ready(ctx: Ctx) -> Response[Readiness]:
    report: dict[str, Any] = await readiness(ctx)
    return Response(msgspec.convert(report, Readiness), status_code=200 if report["status"] == "ready" else 503)
