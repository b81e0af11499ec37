"""``GET /api/v1/controller``: the leader and each loop's last run, last error, restarts and health."""

from __future__ import annotations

from litestar import get

from admin_api.context import Ctx
from admin_api.controller_status.schemas import ControllerStatus
from admin_api.controller_status.services import controller_status

__all__ = ["controller_status_route"]


@get("/api/v1/controller", tags=["controller"],
     summary="Leader and loop health, as `integramon controller --status` prints them")
async def controller_status_route(ctx: Ctx) -> ControllerStatus:
    return await controller_status(ctx.resources.redis)
