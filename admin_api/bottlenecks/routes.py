"""``GET /api/v1/bottlenecks``: why each group's queue grows, beside CPI, database and Redis pressure."""

from __future__ import annotations

from litestar import get

from admin_api.bottlenecks.schemas import BottlenecksOut
from admin_api.bottlenecks.services import bottlenecks, durability, report
from admin_api.context import Ctx

__all__ = ["get_bottlenecks"]


@get("/api/v1/bottlenecks", tags=["bottlenecks"],
     summary="Per worker group: queue, slot use, the CPI and store pressure behind it, and a one-line verdict")
async def get_bottlenecks(ctx: Ctx) -> BottlenecksOut:
    settings = ctx.resources.settings
    rep = await ctx.read(lambda session: report(session, settings))
    return bottlenecks(rep, await durability(ctx.resources.redis))
