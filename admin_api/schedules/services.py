"""Schedule changes, each audited. The controller's schedule runner fires due rows; "run now" enqueues
at once along the same path (fan-out per tenant; agent reports with ``job_config_id`` and
``period_end`` so the report is the same one a retry re-sends) and records a ``job_run``.

Arguments are stored and read only through ``core.schedules.arguments`` (secret ones sealed at rest);
the views show them whole to admins and redacted to viewers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from croniter import CroniterBadDateError, croniter
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_api.alert_rules.services import redact_target
from admin_api.audit.services import audit
from admin_api.context import ApiContext, Principal
from admin_api.errors import BadInput, Conflict, NotFound
from admin_api.jobs.enqueue import check_arguments, check_function, check_tenant
from admin_api.schedules.schemas import (
    LastRun,
    RunNowResult,
    ScheduleCreate,
    ScheduleRun,
    ScheduleUpdate,
    ScheduleView,
)
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.scheduling import JobConfig, JobRun
from core.db.models.tenants import Tenant
from core.defaults import AGENT_REPORT_FUNCTION
from core.ledger.redaction import redact
from core.queues.catalog import function
from core.queues.enqueue import EnqueueRequest
from core.schedules.arguments import UnreadableArguments, readable_arguments, schedule_arguments, store_arguments
from core.secrets import SecretBox
from core.seed_names import current_function_name

__all__ = ["create_schedule", "list_schedules", "next_run", "run_now", "set_enabled", "update_schedule"]


def next_run(cron: str | None, interval_seconds: int | None, after: datetime) -> datetime:
    if cron:
        return croniter(cron, after).get_next(datetime)
    return after + timedelta(seconds=interval_seconds or 60)


def _last_runs(session: Session, ids: list[int]) -> tuple[dict[int, LastRun], dict[int, datetime]]:
    """Per schedule: the job of its latest firing, and when one of its jobs last succeeded."""
    if not ids:
        return {}, {}
    latest = (select(JobRun.job_config_id, func.max(JobRun.id).label("id"))
              .where(JobRun.job_config_id.in_(ids)).group_by(JobRun.job_config_id).subquery())
    rows = session.execute(
        select(JobRun.job_config_id, JobRun.scheduled_for, WorkerJobRun.id, WorkerJobRun.arq_job_id,
               WorkerJobRun.status, WorkerJobRun.tenant_id, WorkerJobRun.finished_at, WorkerJobRun.error_message)
        .join(latest, latest.c.id == JobRun.id)
        .outerjoin(WorkerJobRun, WorkerJobRun.id == JobRun.worker_job_run_id)).all()
    last = {r[0]: LastRun(run_id=r[2], job_id=r[3], status=r[4], tenant_id=r[5], scheduled_for=r[1],
                          finished_at=r[6], error_message=r[7]) for r in rows}
    success = {cid: at for cid, at in session.execute(
        select(JobRun.job_config_id, func.max(WorkerJobRun.finished_at))
        .join(WorkerJobRun, WorkerJobRun.id == JobRun.worker_job_run_id)
        .where(JobRun.job_config_id.in_(ids), WorkerJobRun.status == "succeeded")
        .group_by(JobRun.job_config_id)) if at is not None}
    return last, success


def _args_for(config: JobConfig, box: SecretBox, who: Principal | None) -> dict[str, Any]:
    """Report targets (webhook URLs, e-mail addresses) are shown whole to admins only (no caller: redacted).
    Sealed arguments that cannot be opened show as their stored redacted copy, to everyone."""
    args, real = readable_arguments(config, box)
    if who is not None and who.is_admin:
        return args
    shown = dict(redact(args)) if real else args  # secret-named values masked, URL paths cut (core.ledger.redaction)
    if isinstance(args.get("target"), str):
        shown["target"] = redact_target(args["target"])
    return shown


def view(c: JobConfig, box: SecretBox, last: LastRun | None = None, success: datetime | None = None,
         who: Principal | None = None) -> ScheduleView:
    return ScheduleView(id=c.id, name=c.name, function=c.function, args=_args_for(c, box, who),
                        tenant_id=c.tenant_id,
                        per_tenant=bool(c.per_tenant), cron=c.cron, interval_seconds=c.interval_seconds,
                        enabled=c.enabled, next_run_at=c.next_run_at, last_run_at=c.last_run_at, last_run=last,
                        last_success_at=success)


def _full_view(session: Session, box: SecretBox, config: JobConfig, who: Principal) -> ScheduleView:
    last, success = _last_runs(session, [config.id])
    return view(config, box, last.get(config.id), success.get(config.id), who)


def list_schedules(session: Session, box: SecretBox, who: Principal | None = None) -> list[ScheduleView]:
    configs = list(session.scalars(select(JobConfig).order_by(JobConfig.id)))
    last, success = _last_runs(session, [c.id for c in configs])
    return [view(c, box, last.get(c.id), success.get(c.id), who) for c in configs]


def load(session: Session, config_id: int) -> JobConfig:
    config = session.get(JobConfig, config_id)
    if config is None:
        raise NotFound(f"no schedule with id {config_id}")
    return config


def _check_timing(cron: str | None, interval_seconds: int | None) -> None:
    if (cron is None) == (interval_seconds is None):
        raise BadInput("cron", "give exactly one of cron and interval_seconds")
    if cron is not None and not croniter.is_valid(cron):
        raise BadInput("cron", f"not a valid cron expression: {cron!r}")
    if cron is not None:
        try:  # valid syntax that never fires (e.g. "0 0 30 2 *", 30 February) is bad input too
            croniter(cron, utcnow()).get_next(datetime)
        except CroniterBadDateError:
            raise BadInput("cron", f"{cron!r} never fires") from None


def _check(session: Session, body: ScheduleCreate) -> None:
    check_function("function", current_function_name(body.function))
    check_arguments("args", body.args)
    check_tenant(session, "tenant_id", body.tenant_id)
    _check_timing(body.cron, body.interval_seconds)
    if body.per_tenant and body.tenant_id is not None:
        raise BadInput("per_tenant", "a per-tenant schedule runs for every active tenant; leave tenant_id empty")


def create_schedule(session: Session, box: SecretBox, who: Principal, body: ScheduleCreate) -> ScheduleView:
    _check(session, body)
    config = JobConfig(name=body.name, function=body.function, tenant_id=body.tenant_id,
                       cron=body.cron, interval_seconds=body.interval_seconds, enabled=body.enabled,
                       per_tenant=body.per_tenant, next_run_at=next_run(body.cron, body.interval_seconds, utcnow()))
    store_arguments(config, body.args, box)
    session.add(config)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a schedule named {body.name!r} already exists") from exc
    audit(session, who, "schedule.create", f"schedule:{config.id}",
          {"name": body.name, "function": body.function, "cron": body.cron, "interval_seconds": body.interval_seconds,
           "per_tenant": body.per_tenant})
    return view(config, box, who=who)


def update_schedule(session: Session, box: SecretBox, who: Principal, config_id: int,
                    body: ScheduleUpdate) -> ScheduleView:
    config = load(session, config_id)
    changes: dict[str, Any] = {}
    if body.cron is not None or body.interval_seconds is not None:
        _check_timing(body.cron, body.interval_seconds)
        changes |= {"cron": body.cron, "interval_seconds": body.interval_seconds}
        config.cron, config.interval_seconds = body.cron, body.interval_seconds
        config.next_run_at = next_run(body.cron, body.interval_seconds, utcnow())
    if body.args is not None:
        check_arguments("args", body.args)
        store_arguments(config, body.args, box)
        changes["args"] = sorted(body.args)
    if not changes:
        raise BadInput("cron", "nothing to change: give cron, interval_seconds or args")
    session.flush()
    audit(session, who, "schedule.update", f"schedule:{config.id}", changes)
    return _full_view(session, box, config, who)


def set_enabled(session: Session, box: SecretBox, who: Principal, config_id: int, enabled: bool) -> ScheduleView:
    config = load(session, config_id)
    config.enabled = enabled
    if enabled:
        config.next_run_at = next_run(config.cron, config.interval_seconds, utcnow())
    audit(session, who, "schedule.resume" if enabled else "schedule.pause", f"schedule:{config.id}", {})
    return _full_view(session, box, config, who)


def _requests(session: Session, box: SecretBox, config: JobConfig, now: datetime) -> list[EnqueueRequest]:
    """The jobs one firing of ``config`` enqueues, as the controller (or the report dispatch) would."""
    spec = function(current_function_name(config.function, f"schedule {config.id}"))
    stamp = int(now.timestamp() * 1000)
    if config.function == AGENT_REPORT_FUNCTION:
        return [EnqueueRequest(spec, {"job_config_id": config.id, "period_end": now.isoformat()},
                               tenant_id=config.tenant_id, job_id=f"agent_report:{config.id}:{stamp}")]
    try:
        args = schedule_arguments(config, box)
    except UnreadableArguments as exc:
        raise Conflict(f"schedule {config.id}: {exc}") from exc
    if not config.per_tenant:
        return [EnqueueRequest(spec, args, tenant_id=config.tenant_id, job_id=f"schedule:{config.id}:now:{stamp}")]
    tenants = session.scalars(select(Tenant.id).where(Tenant.active.is_(True)).order_by(Tenant.id))
    return [EnqueueRequest(spec, args | {"tenant_id": tid}, tenant_id=tid,
                           job_id=f"schedule:{config.id}:now:{stamp}:t{tid}") for tid in tenants]


async def run_now(ctx: ApiContext, who: Principal, config_id: int) -> RunNowResult:
    now = utcnow()
    requests = await ctx.read(lambda s: _requests(s, ctx.secrets, load(s, config_id), now))
    if not requests:
        raise Conflict(f"schedule {config_id} runs per tenant and no tenant is active")
    job_ids = await ctx.resources.enqueuer.enqueue_many(requests)
    if not job_ids:
        raise Conflict(f"schedule {config_id} could not be enqueued")

    def record(session: Session) -> RunNowResult:
        ledger = {r.arq_job_id: r for r in session.scalars(
            select(WorkerJobRun).where(WorkerJobRun.arq_job_id.in_(job_ids)))}
        runs = []
        for job_id in job_ids:
            row = ledger.get(job_id)
            session.add(JobRun(job_config_id=config_id, worker_job_run_id=row.id if row else None,
                               scheduled_for=now))
            runs.append(ScheduleRun(run_id=row.id if row else None, job_id=job_id,
                                    tenant_id=row.tenant_id if row else None))
        target = session.get(JobConfig, config_id)
        if target is not None:
            target.last_run_at = now
        audit(session, who, "schedule.run_now", f"schedule:{config_id}",
              {"job_ids": job_ids, "run_ids": [r.run_id for r in runs]})
        return RunNowResult(schedule_id=config_id, run_id=runs[0].run_id, job_id=runs[0].job_id, runs=runs)

    return await ctx.write(record)
