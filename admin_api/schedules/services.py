"""Schedule changes, each audited. The controller's schedule runner fires due rows; "run now" enqueues
at once and records a ``job_run`` linked to the ledger row."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from croniter import CroniterBadDateError, croniter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_api.audit.services import audit
from admin_api.context import ApiContext, Principal
from admin_api.errors import BadInput, Conflict, NotFound
from admin_api.jobs.enqueue import check_arguments, check_function, check_tenant
from admin_api.schedules.schemas import ScheduleCreate
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.scheduling import JobConfig, JobRun
from core.ledger.arguments import open_kwargs, seal_kwargs
from core.ledger.redaction import redact
from core.queues.catalog import function
from core.secrets import SecretBox

__all__ = ["create_schedule", "list_schedules", "next_run", "run_now", "set_enabled"]


def next_run(cron: str | None, interval_seconds: int | None, after: datetime) -> datetime:
    if cron:
        return croniter(cron, after).get_next(datetime)
    return after + timedelta(seconds=interval_seconds or 60)


def view(c: JobConfig) -> dict[str, Any]:
    def iso(v: datetime | None) -> str | None:
        return v.isoformat() if v else None

    # redacted (secret-named values, URL paths): rows stored before sealing may still hold plain args
    return {"id": c.id, "name": c.name, "function": c.function, "args": redact(c.args or {}), "tenant_id": c.tenant_id,
            "cron": c.cron, "interval_seconds": c.interval_seconds, "enabled": c.enabled,
            "next_run_at": iso(c.next_run_at), "last_run_at": iso(c.last_run_at)}


def list_schedules(session: Session) -> list[dict[str, Any]]:
    return [view(c) for c in session.scalars(select(JobConfig).order_by(JobConfig.id))]


def load(session: Session, config_id: int) -> JobConfig:
    config = session.get(JobConfig, config_id)
    if config is None:
        raise NotFound(f"no schedule with id {config_id}")
    return config


def _check(session: Session, body: ScheduleCreate) -> None:
    check_function("function", body.function)
    check_arguments("args", body.args)
    check_tenant(session, "tenant_id", body.tenant_id)
    if (body.cron is None) == (body.interval_seconds is None):
        raise BadInput("cron", "give exactly one of cron and interval_seconds")
    if body.cron is not None and not croniter.is_valid(body.cron):
        raise BadInput("cron", f"not a valid cron expression: {body.cron!r}")
    if body.cron is not None:
        try:  # valid syntax that never fires (e.g. "0 0 30 2 *", 30 February) is bad input too
            croniter(body.cron, utcnow()).get_next(datetime)
        except CroniterBadDateError:
            raise BadInput("cron", f"{body.cron!r} never fires") from None


def create_schedule(session: Session, who: Principal, body: ScheduleCreate, box: SecretBox) -> dict[str, Any]:
    _check(session, body)
    shown, sealed = seal_kwargs(body.args, box)  # like the ledger: redacted copy + the real args encrypted
    config = JobConfig(name=body.name, function=body.function, args=shown, args_sealed=sealed,
                       tenant_id=body.tenant_id,
                       cron=body.cron, interval_seconds=body.interval_seconds, enabled=body.enabled,
                       next_run_at=next_run(body.cron, body.interval_seconds, utcnow()))
    session.add(config)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a schedule named {body.name!r} already exists") from exc
    audit(session, who, "schedule.create", f"schedule:{config.id}",
          {"name": body.name, "function": body.function, "cron": body.cron, "interval_seconds": body.interval_seconds})
    return view(config)


def set_enabled(session: Session, who: Principal, config_id: int, enabled: bool) -> dict[str, Any]:
    config = load(session, config_id)
    config.enabled = enabled
    if enabled:
        config.next_run_at = next_run(config.cron, config.interval_seconds, utcnow())
    audit(session, who, "schedule.resume" if enabled else "schedule.pause", f"schedule:{config.id}", {})
    return view(config)


async def run_now(ctx: ApiContext, who: Principal, config_id: int) -> dict[str, Any]:
    config = await ctx.read(lambda s: load(s, config_id))
    kwargs = open_kwargs(config.args, config.args_sealed, ctx.secrets)
    if kwargs is None:
        raise Conflict(f"the arguments of schedule {config_id} were sealed under another secret key; save it again")
    job_id = await ctx.resources.enqueuer.enqueue(function(config.function), kwargs, tenant_id=config.tenant_id)
    if job_id is None:
        raise Conflict(f"schedule {config_id} could not be enqueued")

    def record(session: Session) -> dict[str, Any]:
        run_id = session.execute(select(WorkerJobRun.id).where(WorkerJobRun.arq_job_id == job_id)).scalar()
        now = utcnow()
        session.add(JobRun(job_config_id=config_id, worker_job_run_id=run_id, scheduled_for=now))
        target = session.get(JobConfig, config_id)
        if target is not None:
            target.last_run_at = now
        audit(session, who, "schedule.run_now", f"schedule:{config_id}", {"job_id": job_id, "run_id": run_id})
        return {"schedule_id": config_id, "run_id": run_id, "job_id": job_id}

    return await ctx.write(record)
