"""``stats_update_t``: bring the hourly and daily aggregates of one or every tenant up to date."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.tenants import Tenant
from core.errors import PermanentJobError
from core.queues.catalog import STATS_UPDATE_T
from functions.registry import JobFunction, implemented_in, implements
from functions.runner.context import JobContext
from functions.stats.buckets import TenantUpdate, update_tenant

__all__ = ["JOBS", "stats_update_t"]


def _tenant_ids(sessions: sessionmaker[Session], tenant_id: int | None) -> list[int]:
    with sessions() as session:
        if tenant_id is not None:
            if session.get(Tenant, tenant_id) is None:
                raise PermanentJobError(f"tenant {tenant_id} does not exist")
            return [tenant_id]
        return list(session.scalars(select(Tenant.id).where(Tenant.active.is_(True)).order_by(Tenant.id)))


def _update_one(sessions: sessionmaker[Session], tenant_id: int, full: bool) -> TenantUpdate:
    with sessions.begin() as session:
        return update_tenant(session, tenant_id, full=full)


@implements(STATS_UPDATE_T)
async def stats_update_t(ctx: JobContext, tenant_id: int | None = None, full: bool = False) -> dict[str, Any]:
    """Incremental by default; ``full=True`` rebuilds every bucket of the tenant(s)."""
    sessions = ctx.resources.sessions
    ids = await asyncio.to_thread(_tenant_ids, sessions, tenant_id)
    hours = days = scanned = 0
    for done, tid in enumerate(ids, start=1):
        result = await asyncio.to_thread(_update_one, sessions, tid, full)
        hours, days, scanned = hours + result.hours, days + result.days, scanned + result.rows_scanned
        await ctx.progress(done, len(ids), f"tenant {tid}")
    return {"tenants": len(ids), "hours": hours, "days": days, "rows_scanned": scanned}


JOBS: dict[str, JobFunction] = implemented_in(__name__)  # the table, derived from @implements
