"""``/api/v1/schedules``: list (with each one's last run), create, change timing, pause, resume, run now."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from admin_api.auth.middleware import require_admin
from admin_api.context import Ctx, Principal
from admin_api.schedules.schemas import RunNowResult, ScheduleCreate, ScheduleList, ScheduleUpdate, ScheduleView
from admin_api.schedules.services import create_schedule, list_schedules, run_now, set_enabled, update_schedule

__all__ = ["SchedulesController"]

ScheduleId = Annotated[int, Parameter(ge=1, le=2**31 - 1)]


class SchedulesController(Controller):
    path = "/api/v1/schedules"
    tags = ["schedules"]

    @get("/", summary="All schedules with their next and last run")
    async def list_items(self, ctx: Ctx, request: Request[Principal, Any, Any]) -> ScheduleList:
        return ScheduleList(items=await ctx.read(lambda s: list_schedules(s, ctx.secrets, request.user)))

    @post("/", guards=[require_admin], status_code=HTTP_201_CREATED, summary="Create a schedule")
    async def create(self, ctx: Ctx, request: Request[Principal, Any, Any], data: JSONBody[ScheduleCreate]
                     ) -> ScheduleView:
        return await ctx.write(lambda s: create_schedule(s, ctx.secrets, request.user, data))

    @patch("/{schedule_id:int}", guards=[require_admin], summary="Change a schedule's timing or arguments")
    async def update(self, ctx: Ctx, request: Request[Principal, Any, Any], schedule_id: ScheduleId,
                     data: JSONBody[ScheduleUpdate]) -> ScheduleView:
        return await ctx.write(lambda s: update_schedule(s, ctx.secrets, request.user, schedule_id, data))

    @post("/{schedule_id:int}/pause", guards=[require_admin], status_code=HTTP_200_OK, summary="Pause")
    async def pause(self, ctx: Ctx, request: Request[Principal, Any, Any], schedule_id: ScheduleId
                    ) -> ScheduleView:
        return await ctx.write(lambda s: set_enabled(s, ctx.secrets, request.user, schedule_id, False))

    @post("/{schedule_id:int}/resume", guards=[require_admin], status_code=HTTP_200_OK, summary="Resume")
    async def resume(self, ctx: Ctx, request: Request[Principal, Any, Any], schedule_id: ScheduleId
                     ) -> ScheduleView:
        return await ctx.write(lambda s: set_enabled(s, ctx.secrets, request.user, schedule_id, True))

    @post("/{schedule_id:int}/run", guards=[require_admin], status_code=HTTP_201_CREATED,
          summary="Enqueue the scheduled job now (the same path as a scheduled firing)")
    async def run(self, ctx: Ctx, request: Request[Principal, Any, Any], schedule_id: ScheduleId
                  ) -> RunNowResult:
        return await run_now(ctx, request.user, schedule_id)
