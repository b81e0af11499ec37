"""Live workers joined with their current runs (ledger) and progress, plus recently gone workers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.context import ApiContext
from admin_api.workers.services import job_progress, live_workers
from core.db.models.controller import WorkerProcess
from core.db.models.ledger import WorkerJobRun
from core.records.heartbeat import WorkerStatus

__all__ = ["workers_overview"]


def _runs_by_job(session: Session, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not job_ids:
        return {}
    rows = session.execute(select(WorkerJobRun.id, WorkerJobRun.arq_job_id, WorkerJobRun.function,
                                  WorkerJobRun.started_at).where(WorkerJobRun.arq_job_id.in_(job_ids)))
    return {r.arq_job_id: {"run_id": r.id, "function": r.function,
                           "started_at": r.started_at.isoformat() if r.started_at else None} for r in rows}


def _recently_gone(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    rows = session.scalars(select(WorkerProcess).where(WorkerProcess.status != WorkerStatus.LIVE.value)
                           .order_by(WorkerProcess.last_seen.desc()).limit(limit))
    return [{"worker_id": w.worker_id, "group": w.group_name, "host": w.host, "pid": w.pid,
             "last_seen": w.last_seen.isoformat(), "gone_at": w.gone_at.isoformat() if w.gone_at else None}
            for w in rows]


async def workers_overview(ctx: ApiContext) -> dict[str, Any]:
    workers = await live_workers(ctx.resources.redis)
    job_ids = [j for w in workers for j in w["running"]]
    runs = await ctx.read(lambda s: _runs_by_job(s, job_ids))
    progress = await job_progress(ctx.resources.redis, job_ids)
    for w in workers:
        w["jobs"] = [{"job_id": j, **runs.get(j, {}), "progress": progress.get(j)} for j in w["running"]]
    return {"workers": workers, "recently_gone": await ctx.read(_recently_gone)}
