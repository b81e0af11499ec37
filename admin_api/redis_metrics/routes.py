"""``GET /api/v1/redis-metrics``."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get
from litestar.params import Parameter

from admin_api.context import Ctx
from admin_api.redis_metrics.schemas import RedisOverview
from admin_api.redis_metrics.services import redis_overview

__all__ = ["redis_metrics"]


@get("/api/v1/redis-metrics", tags=["redis-metrics"],
     summary="Redis memory, ops/s, clients, keyspace, per-queue depth and slowlog")
async def redis_metrics(ctx: Ctx,
                        slowlog: Annotated[int, Parameter(ge=0, le=128)] = 20) -> RedisOverview:
    return msgspec.convert(await redis_overview(ctx.resources.redis, slowlog), RedisOverview, strict=False)
