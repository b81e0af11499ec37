"""Live workers joined with their current runs (ledger) and progress, plus recently gone workers."""

from __future__ import annotations

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.context import ApiContext
from admin_api.jobs.schemas import JobProgress
from admin_api.workers.schemas import GoneWorker, WorkerJob, WorkersOverview, WorkerView
from admin_api.workers.services import job_progress, live_workers
from core.db.models.controller import WorkerProcess
from core.db.models.ledger import WorkerJobRun
from core.records.heartbeat import WorkerStatus

__all__ = ["workers_overview"]


def _runs_by_job(session: Session, job_ids: list[str]) -> dict[str, WorkerJob]:
    if not job_ids:
        return {}
    rows = session.execute(select(WorkerJobRun.id, WorkerJobRun.arq_job_id, WorkerJobRun.function,
                                  WorkerJobRun.started_at).where(WorkerJobRun.arq_job_id.in_(job_ids)))
    return {r.arq_job_id: WorkerJob(job_id=r.arq_job_id, run_id=r.id, function=r.function, started_at=r.started_at)
            for r in rows}


def _recently_gone(session: Session, limit: int = 20) -> list[GoneWorker]:
    rows = session.scalars(select(WorkerProcess).where(WorkerProcess.status != WorkerStatus.LIVE.value)
                           .order_by(WorkerProcess.last_seen.desc()).limit(limit))
    return [GoneWorker(worker_id=w.worker_id, group=w.group_name, host=w.host, pid=w.pid, last_seen=w.last_seen,
                       gone_at=w.gone_at) for w in rows]


def _job(job_id: str, runs: dict[str, WorkerJob], progress: dict[str, dict[str, object]]) -> WorkerJob:
    job = runs.get(job_id) or WorkerJob(job_id=job_id)
    reported = progress.get(job_id)
    if reported is not None:
        job.progress = msgspec.convert(reported, JobProgress, strict=False)
    return job


async def workers_overview(ctx: ApiContext) -> WorkersOverview:
    workers = [msgspec.convert(w, WorkerView) for w in await live_workers(ctx.resources.redis)]
    job_ids = [j for w in workers for j in w.running]
    runs = await ctx.read(lambda s: _runs_by_job(s, job_ids))
    progress = await job_progress(ctx.resources.redis, job_ids)
    for w in workers:
        w.jobs = [_job(j, runs, progress) for j in w.running]
    return WorkersOverview(workers=workers, recently_gone=await ctx.read(_recently_gone))
