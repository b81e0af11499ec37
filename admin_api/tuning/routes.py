"""``/api/v1/worker-tuning``: current tuning, preview and apply."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from admin_api.auth.middleware import require_admin
from admin_api.context import Ctx, Principal
from admin_api.tuning.schemas import TuningApplied, TuningChange, TuningPreview, TuningView
from admin_api.tuning.services import apply_change, current_tuning, preview_change

__all__ = ["TuningController"]


class TuningController(Controller):
    path = "/api/v1/worker-tuning"
    tags = ["worker-tuning"]

    @get("/", summary="Profiles, the active one, overrides and effective concurrency per group")
    async def show(self, ctx: Ctx) -> TuningView:
        return msgspec.convert(await ctx.read(current_tuning), TuningView)

    @post("/preview", status_code=HTTP_200_OK, summary="Per group before/after of a change, nothing saved")
    async def preview(self, ctx: Ctx, data: JSONBody[TuningChange]) -> TuningPreview:
        settings = ctx.resources.settings
        return msgspec.convert(await ctx.read(lambda s: preview_change(s, data, settings)), TuningPreview)

    @post("/apply", guards=[require_admin], status_code=HTTP_200_OK,
          summary="Save a change; running workers resize without a restart (409 on warnings unless confirmed)")
    async def apply(self, ctx: Ctx, request: Request[Principal, Any, Any], data: JSONBody[TuningChange]
                    ) -> TuningApplied:
        return msgspec.convert(await apply_change(ctx, request.user, data), TuningApplied)
