"""``GET /api/v1/workers``: live worker processes, their slots and current jobs (with progress)."""

from __future__ import annotations

from litestar import get

from admin_api.context import Ctx
from admin_api.workers.overview import workers_overview
from admin_api.workers.schemas import WorkersOverview

__all__ = ["list_workers"]


@get("/api/v1/workers", tags=["workers"], summary="Live workers: heartbeat age, slots used, current jobs")
async def list_workers(ctx: Ctx) -> WorkersOverview:
    return await workers_overview(ctx)
