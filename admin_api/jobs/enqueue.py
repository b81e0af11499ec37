"""Enqueue a catalogued function from the API, with its arguments checked before anything is written."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from admin_api.audit.services import audit
from admin_api.context import ApiContext, Principal
from admin_api.errors import BadInput, Conflict
from admin_api.jobs.schemas import EnqueueBody, EnqueueResult
from core.db.models.ledger import WorkerJobRun
from core.db.models.tenants import Tenant
from core.queues.catalog import FUNCTIONS

__all__ = ["MAX_KWARGS_BYTES", "check_arguments", "enqueue_job"]

MAX_KWARGS_BYTES = 64 * 1024


def check_arguments(field: str, kwargs: dict[str, Any]) -> None:
    """Keyword arguments must be identifiers with JSON values, small enough for a queue entry."""
    for key in kwargs:
        if not key.isidentifier() or key.startswith("_"):
            raise BadInput(f"{field}.{key}", "argument names must be Python identifiers not starting with '_'")
    if len(json.dumps(kwargs)) > MAX_KWARGS_BYTES:
        raise BadInput(field, f"arguments larger than {MAX_KWARGS_BYTES} bytes")


def check_function(field: str, name: str) -> None:
    if name not in FUNCTIONS:
        raise BadInput(field, f"unknown function {name!r}; catalogued: {', '.join(sorted(FUNCTIONS))}")


def check_tenant(session: Session, field: str, tenant_id: int | None) -> None:
    if tenant_id is not None and session.get(Tenant, tenant_id) is None:
        raise BadInput(field, f"no tenant with id {tenant_id}")


async def enqueue_job(ctx: ApiContext, who: Principal, body: EnqueueBody) -> EnqueueResult:
    check_function("function", body.function)
    check_arguments("kwargs", body.kwargs)
    await ctx.read(lambda s: check_tenant(s, "tenant_id", body.tenant_id))
    job_id = await ctx.resources.enqueuer.enqueue(
        FUNCTIONS[body.function], body.kwargs, tenant_id=body.tenant_id, dedup_key=body.dedup_key,
        defer_s=body.defer_s)
    if job_id is None:
        raise Conflict(f"an unfinished run with dedup_key {body.dedup_key!r} already exists")

    def record(session: Session) -> EnqueueResult:
        run_id = session.query(WorkerJobRun.id).filter(WorkerJobRun.arq_job_id == job_id).scalar()
        audit(session, who, "job.enqueue", f"run:{run_id}",
              {"function": body.function, "job_id": job_id, "tenant_id": body.tenant_id, "defer_s": body.defer_s})
        return EnqueueResult(run_id=run_id, job_id=job_id, function=body.function)

    return await ctx.write(record)
