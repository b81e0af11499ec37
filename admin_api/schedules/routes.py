"""``/api/v1/schedules``: list, create, pause, resume, run now."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from admin_api.auth.middleware import require_admin
from admin_api.context import Ctx, Principal
from admin_api.schedules.schemas import ScheduleCreate
from admin_api.schedules.services import create_schedule, list_schedules, run_now, set_enabled

__all__ = ["SchedulesController"]

ScheduleId = Annotated[int, Parameter(ge=1, le=2**31 - 1)]


class SchedulesController(Controller):
    path = "/api/v1/schedules"
    tags = ["schedules"]

    @get("/", summary="All schedules")
    async def list_items(self, ctx: Ctx) -> dict[str, Any]:
        return {"items": await ctx.read(list_schedules)}

    @post("/", guards=[require_admin], status_code=HTTP_201_CREATED, summary="Create a schedule")
    async def create(self, ctx: Ctx, request: Request[Principal, Any, Any], data: JSONBody[ScheduleCreate]
                     ) -> dict[str, Any]:
        return await ctx.write(lambda s: create_schedule(s, request.user, data, ctx.secrets))

    @post("/{schedule_id:int}/pause", guards=[require_admin], status_code=HTTP_200_OK, summary="Pause")
    async def pause(self, ctx: Ctx, request: Request[Principal, Any, Any], schedule_id: ScheduleId
                    ) -> dict[str, Any]:
        return await ctx.write(lambda s: set_enabled(s, request.user, schedule_id, False))

    @post("/{schedule_id:int}/resume", guards=[require_admin], status_code=HTTP_200_OK, summary="Resume")
    async def resume(self, ctx: Ctx, request: Request[Principal, Any, Any], schedule_id: ScheduleId
                     ) -> dict[str, Any]:
        return await ctx.write(lambda s: set_enabled(s, request.user, schedule_id, True))

    @post("/{schedule_id:int}/run", guards=[require_admin], status_code=HTTP_201_CREATED,
          summary="Enqueue the scheduled job now")
    async def run(self, ctx: Ctx, request: Request[Principal, Any, Any], schedule_id: ScheduleId
                  ) -> dict[str, Any]:
        return await run_now(ctx, request.user, schedule_id)
