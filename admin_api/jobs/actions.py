"""Changes to jobs: replay a finished run as a new linked run, cancel, and enqueue.

Replay needs the real keyword arguments, but the ledger stores only redacted ones, so they are read
from arq's own job or result entry in Redis; once both expired a replay is refused with 409.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_api.audit.services import audit
from admin_api.context import ApiContext, Principal
from admin_api.errors import Conflict
from admin_api.jobs.queries import load_run
from admin_api.jobs.schemas import CancelResult, ReplayResult
from core.db.models.base import utcnow
from core.db.models.dead_letters import DeadLetterResolution
from core.db.models.ledger import WorkerJobRun
from core.events.outbox import record_event
from core.ledger.arguments import ledger_kwargs
from core.ledger.states import RunStatus
from core.queues.cancel import CancelOutcome, cancel_job
from core.queues.catalog import function, queue
from core.queues.keys import job_key, result_key
from core.queues.serialization import PayloadError, decode_any
from core.secrets import SecretBox

__all__ = ["REPLAYABLE", "cancel_run", "original_kwargs", "replay_run"]

REPLAYABLE = frozenset({RunStatus.FAILED, RunStatus.DEAD, RunStatus.CANCELLED, RunStatus.SKIPPED,
                        RunStatus.SUCCEEDED})
ACTIVE_VALUES = tuple(s.value for s in (RunStatus.QUEUED, RunStatus.RETRYING, RunStatus.RUNNING))

async def original_kwargs(redis: Redis, job_id: str) -> dict[str, Any] | None:
    """The job's real kwargs from ``arq:job:<id>`` or ``arq:result:<id>``, or None when both are gone."""
    for key in (job_key(job_id), result_key(job_id)):
        raw = await redis.get(key)
        if not raw:
            continue
        try:
            data = decode_any(raw)  # our JSON wire format; anything else (e.g. pickle) is refused unread
        except PayloadError:
            continue
        if isinstance(data, dict) and isinstance(data.get("k"), dict):
            return dict(data["k"])
    return None


def _claim_dead_letter(session: Session, run: WorkerJobRun, who: Principal) -> None:
    session.add(DeadLetterResolution(run_id=run.id, action="replayed", resolved_by=who.name))
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"dead letter {run.id} was already replayed or discarded") from exc


async def replay_run(ctx: ApiContext, who: Principal, run_id: int) -> ReplayResult:
    """Enqueue a new run of the same function and arguments, linked to the old one (``replay_of_id``)."""
    run = await ctx.read(lambda s: load_run(s, run_id))
    if run.status not in REPLAYABLE:
        raise Conflict(f"job run {run_id} is {run.status}; only finished runs can be retried")
    kwargs = ledger_kwargs(run, SecretBox(ctx.resources.settings))
    if kwargs is None:  # sealed under a previous secret key: Redis may still have the job
        kwargs = await original_kwargs(ctx.resources.redis, run.arq_job_id)
    if kwargs is None:
        raise Conflict(f"the arguments of job run {run_id} are no longer in Redis (job and result expired); "
                       "enqueue it again with its arguments instead")
    is_dead = run.status == RunStatus.DEAD
    if is_dead:
        await ctx.write(lambda s: _claim_dead_letter(s, run, who))
    try:
        new_job = await ctx.resources.enqueuer.enqueue(
            function(run.function), kwargs, replay_of_id=run.id, tenant_id=run.tenant_id)
    except Exception:
        if is_dead:
            await ctx.write(lambda s: s.execute(delete(DeadLetterResolution).where(
                DeadLetterResolution.run_id == run.id)))
        raise
    if new_job is None:
        raise Conflict(f"job run {run_id} could not be replayed: a job with the same id is active")
    return await ctx.write(lambda s: _after_replay(s, who, run, new_job, is_dead))


def _after_replay(session: Session, who: Principal, run: WorkerJobRun, new_job: str, is_dead: bool) -> ReplayResult:
    new_id = session.query(WorkerJobRun.id).filter(WorkerJobRun.arq_job_id == new_job).scalar()
    if is_dead:
        session.execute(update(DeadLetterResolution).where(DeadLetterResolution.run_id == run.id)
                        .values(new_run_id=new_id))
    payload = {"run_id": run.id, "new_run_id": new_id, "job_id": new_job, "function": run.function,
               "queue": run.queue, "by": who.name}
    record_event(session, "run.replayed", payload)
    audit(session, who, "job.replay", f"run:{run.id}", payload)
    return ReplayResult(replayed_run_id=run.id, run_id=new_id, job_id=new_job)


async def cancel_run(ctx: ApiContext, who: Principal, run_id: int) -> CancelResult:
    """Queued job: removed from its queue and marked cancelled. Running job: the worker is asked to abort."""
    run = await ctx.read(lambda s: load_run(s, run_id))
    if RunStatus(run.status) not in (RunStatus.QUEUED, RunStatus.RETRYING, RunStatus.RUNNING):
        raise Conflict(f"job run {run_id} is {run.status}; only queued, retrying or running jobs can be cancelled")
    jid = run.arq_job_id
    outcome = await cancel_job(ctx.resources.redis, queue(run.queue).name, jid)
    if outcome == CancelOutcome.ABORT_REQUESTED:
        await ctx.write(lambda s: audit(s, who, "job.cancel_requested", f"run:{run.id}", {"job_id": jid}))
        return CancelResult(run_id=run.id, status="cancelling", detail="the worker running it was asked to abort")
    return await ctx.write(lambda s: _mark_cancelled(s, who, run, outcome.value))


def _mark_cancelled(session: Session, who: Principal, run: WorkerJobRun, outcome: str) -> CancelResult:
    now = utcnow()
    changed: Any = session.execute(
        update(WorkerJobRun).where(WorkerJobRun.id == run.id, WorkerJobRun.status.in_(ACTIVE_VALUES))
        .values(status=RunStatus.CANCELLED.value, finished_at=now, updated_at=now,
                error_type="Cancelled", error_message=f"cancelled by {who.name}")
    )
    if not changed.rowcount:
        raise Conflict(f"job run {run.id} started or finished meanwhile; cancel it again if it is running")
    payload = {"run_id": run.id, "job_id": run.arq_job_id, "function": run.function, "queue": run.queue,
               "by": who.name, "redis": outcome}
    record_event(session, "run.cancelled", payload)
    audit(session, who, "job.cancel", f"run:{run.id}", payload)
    return CancelResult(run_id=run.id, status="cancelled")
