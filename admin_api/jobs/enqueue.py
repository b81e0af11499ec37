"""Enqueue a catalogued function from the API, with its arguments checked before anything is written."""

from __future__ import annotations

from sqlalchemy.orm import Session

from admin_api.audit.services import audit
from admin_api.context import ApiContext, Principal
from admin_api.errors import Conflict
from admin_api.jobs.schemas import EnqueueBody, EnqueueResult
from core.db.models.ledger import WorkerJobRun
from core.job_input import MAX_KWARGS_BYTES, check_arguments, check_dedup_key, check_function, check_tenant
from core.queues.catalog import FUNCTIONS

__all__ = ["MAX_KWARGS_BYTES", "check_arguments", "check_function", "check_tenant", "enqueue_job"]

async def enqueue_job(ctx: ApiContext, who: Principal, body: EnqueueBody) -> EnqueueResult:
    check_function("function", body.function)
    check_arguments("kwargs", body.kwargs)
    check_dedup_key("dedup_key", body.dedup_key)
    await ctx.read(lambda s: check_tenant(s, "tenant_id", body.tenant_id))
    job_id = await ctx.resources.enqueuer.enqueue(
        FUNCTIONS[body.function], body.kwargs, tenant_id=body.tenant_id, dedup_key=body.dedup_key,
        defer_s=body.defer_s)
    if job_id is None:
        raise Conflict(f"an unfinished run with dedup_key {body.dedup_key!r} already exists")

    def record(session: Session) -> EnqueueResult:
        run_id = session.query(WorkerJobRun.id).filter(WorkerJobRun.arq_job_id == job_id).scalar()
        audit(session, who, "job.enqueue", f"run:{run_id}",
              {"function": body.function, "job_id": job_id, "tenant_id": body.tenant_id, "defer_s": body.defer_s,
               "dedup_key": body.dedup_key})
        return EnqueueResult(run_id=run_id, job_id=job_id, function=body.function)

    return await ctx.write(record)
