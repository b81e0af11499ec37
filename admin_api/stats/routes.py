"""``GET /api/v1/stats``: tenant totals per hour or day, newest first."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import Parameter
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.context import Ctx
from admin_api.params import Limit, TenantQ
from admin_api.stats.schemas import Granularity, StatsList, StatsRow
from core.db.models.stats import StatsBucket

__all__ = ["list_stats"]

GranularityQ = Annotated[Granularity, Parameter(description="hour or day buckets")]


def _rows(session: Session, tenant_id: int | None, granularity: str, limit: int) -> list[StatsRow]:
    stmt = (select(StatsBucket).where(StatsBucket.granularity == granularity, StatsBucket.package_id == "*",
                                      StatsBucket.iflow_id == "*", StatsBucket.status == "*")
            .order_by(StatsBucket.bucket_start.desc(), StatsBucket.tenant_id).limit(limit))
    if tenant_id is not None:
        stmt = stmt.where(StatsBucket.tenant_id == tenant_id)
    return [StatsRow(tenant_id=b.tenant_id, granularity=b.granularity, bucket_start=b.bucket_start,
                     message_count=b.message_count, failed_count=b.failed_count, failure_rate=b.failure_rate,
                     p50_ms=b.p50_ms, p95_ms=b.p95_ms, updated_at=b.updated_at) for b in session.scalars(stmt)]


@get("/api/v1/stats", tags=["stats"], summary="Tenant message totals per hour or day (newest first)")
async def list_stats(ctx: Ctx, tenant_id: TenantQ = None, granularity: GranularityQ = "hour",
                     limit: Limit = 48) -> StatsList:
    return StatsList(items=await ctx.read(lambda s: _rows(s, tenant_id, granularity, limit)))
