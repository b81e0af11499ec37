"""Agent reports: ``job_config`` rows of function ``run_agent_report_task`` are dispatched when due,
and each run builds, stores and delivers one digest.

Job config args: ``period_hours`` (default 24), ``delivery`` (``webhook`` | ``email``), ``target``
(URL, or comma-separated addresses). A run is idempotent per (config, period end): a retry re-sends
the stored report instead of building a second one. The args are read at run time through
``core.schedules.arguments`` (a webhook URL is sealed at rest); the job's own kwargs carry only the
firing identity, so no secret reaches Redis or the ledger on this path, and the stored report keeps
the target redacted.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.platform import AgentReport
from core.db.models.scheduling import JobConfig, JobRun
from core.defaults import AGENT_REPORT_FUNCTION
from core.errors import PermanentJobError
from core.ledger.redaction import redact
from core.queues.catalog import DISPATCH_DUE_AGENT_REPORTS_TASK, RUN_AGENT_REPORT_TASK
from core.schedules.arguments import UnreadableArguments, schedule_arguments
from core.secrets import SecretBox
from functions.alerting.delivery import DeliveryError, post_webhook, send_email
from functions.platform.digest import build_digest, render_text
from functions.registry import implements
from functions.runner.context import JobContext

__all__ = ["REPORT_FUNCTION", "dispatch_due_agent_reports_task", "firing_job_id", "next_run_after",
           "run_agent_report_task"]

REPORT_FUNCTION = AGENT_REPORT_FUNCTION  # fired only here (the controller's schedule runner leaves these rows)
DELIVERIES = ("webhook", "email")


def next_run_after(config: JobConfig, scheduled: datetime, now: datetime) -> datetime | None:
    """Next firing strictly after ``now`` (missed firings are skipped, not replayed)."""
    if config.cron:
        return croniter(config.cron, now).get_next(datetime)
    if config.interval_seconds:
        step = timedelta(seconds=config.interval_seconds)
        missed = max(int((now - scheduled) / step), 0)
        return scheduled + step * (missed + 1)
    return None


def _plan_unplanned(sessions: sessionmaker[Session]) -> int:
    """Rows never planned (``next_run_at`` NULL, e.g. written by SQL) get their first firing."""
    now = utcnow()
    planned = 0
    with sessions.begin() as session:
        for config in session.scalars(select(JobConfig).where(
                JobConfig.function == REPORT_FUNCTION, JobConfig.enabled.is_(True), JobConfig.next_run_at.is_(None))):
            config.next_run_at = next_run_after(config, now, now)
            planned += 1
    return planned


def _due(sessions: sessionmaker[Session]) -> list[tuple[int, int | None, datetime]]:
    _plan_unplanned(sessions)
    with sessions() as session:
        rows = session.execute(select(JobConfig.id, JobConfig.tenant_id, JobConfig.next_run_at).where(
            JobConfig.function == REPORT_FUNCTION, JobConfig.enabled.is_(True),
            JobConfig.next_run_at <= utcnow()).order_by(JobConfig.next_run_at)).all()
    return [(cid, tid, at) for cid, tid, at in rows]


def firing_job_id(config_id: int, scheduled: datetime) -> str:
    """One job id per firing: a second dispatcher (or a retried dispatch) finds it in the ledger and adds nothing."""
    return f"agent_report:{config_id}:{int(scheduled.timestamp())}"


def _advance(sessions: sessionmaker[Session], config_id: int, scheduled: datetime, job_id: str) -> bool:
    """Move next_run_at on (only if nobody else did) and link the firing to its ledger row."""
    now = utcnow()
    with sessions.begin() as session:
        config = session.get(JobConfig, config_id)
        if config is None:
            return False
        nxt = next_run_after(config, scheduled, now)
        moved = session.execute(update(JobConfig).where(JobConfig.id == config_id, JobConfig.next_run_at == scheduled)
                                .values(next_run_at=nxt, last_run_at=now))
        if not moved.rowcount:  # type: ignore[attr-defined]
            return False
        run_id = session.scalar(select(WorkerJobRun.id).where(WorkerJobRun.arq_job_id == job_id))
        session.add(JobRun(job_config_id=config_id, worker_job_run_id=run_id, scheduled_for=scheduled))
    return True


@implements(DISPATCH_DUE_AGENT_REPORTS_TASK)
async def dispatch_due_agent_reports_task(ctx: JobContext) -> dict[str, int]:
    """Enqueue every due report once (one job id per firing, kept in the ledger), then advance its schedule.

    Two dispatchers on the same row enqueue the same job id (the ledger takes one) and only the one whose
    conditional UPDATE still finds the row at ``scheduled`` records the firing.
    """
    spec = RUN_AGENT_REPORT_TASK
    dispatched = 0
    for config_id, tenant_id, scheduled in await asyncio.to_thread(_due, ctx.resources.sessions):
        job_id = firing_job_id(config_id, scheduled)
        await ctx.resources.enqueuer.enqueue(
            spec, {"job_config_id": config_id, "period_end": scheduled.isoformat()}, tenant_id=tenant_id,
            job_id=job_id)
        if await asyncio.to_thread(_advance, ctx.resources.sessions, config_id, scheduled, job_id):
            dispatched += 1
    return {"dispatched": dispatched}


def _options(session: Session, box: SecretBox, job_config_id: int | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {"period_hours": 24, "tenant_id": None}
    if job_config_id is not None:
        config = session.get(JobConfig, job_config_id)
        if config is None:
            raise PermanentJobError(f"job_config {job_config_id} does not exist")
        try:
            options.update(schedule_arguments(config, box))
        except UnreadableArguments as exc:
            raise PermanentJobError(f"job_config {job_config_id}: {exc}") from exc
        options["tenant_id"] = config.tenant_id if config.tenant_id is not None else options.get("tenant_id")
    options.update({k: v for k, v in kwargs.items() if v is not None})
    if options.get("delivery") not in DELIVERIES:
        raise PermanentJobError(f"delivery must be one of {', '.join(DELIVERIES)}, got {options.get('delivery')!r}")
    if not options.get("target"):
        raise PermanentJobError("target (webhook URL or e-mail addresses) is required")
    return options


def _report(sessions: sessionmaker[Session], box: SecretBox, job_config_id: int | None, end: datetime,
            kwargs: dict[str, Any]) -> tuple[AgentReport, str]:
    """The stored report of this firing, or a new one built now; and the real target to deliver to.

    The report row keeps the target redacted (a webhook URL's path is its secret, sealed in the
    schedule): delivery always uses the schedule's current target. A row of an older release holds
    the whole target, so both forms identify the firing's report."""
    with sessions.begin() as session:
        opts = _options(session, box, job_config_id, kwargs)
        target = str(opts["target"])
        shown = str(redact(target))
        existing = session.scalar(select(AgentReport).where(
            AgentReport.job_config_id == job_config_id, AgentReport.period_end == end,
            AgentReport.target.in_({shown, target}))) if job_config_id is not None else None
        if existing is not None:
            return existing, target
        start = end - timedelta(hours=float(opts["period_hours"]))
        digest = build_digest(session, opts["tenant_id"], start, end)
        report = AgentReport(job_config_id=job_config_id, tenant_id=opts["tenant_id"], period_start=start,
                             period_end=end, digest=digest, text=render_text(digest), delivery=opts["delivery"],
                             target=shown)
        session.add(report)
        session.flush()
        return report, target


async def _deliver(ctx: JobContext, report: AgentReport, target: str) -> None:
    subject = f"IntegraMon digest: {report.digest['failures']} failures"
    if report.delivery == "webhook":
        await post_webhook(target, {"kind": "agent_report", "report_id": report.id, **report.digest})
    else:
        to = [a.strip() for a in target.split(",") if a.strip()]
        await send_email(ctx.settings, to, subject, report.text)


def _mark(sessions: sessionmaker[Session], report_id: int, error: str | None) -> None:
    with sessions.begin() as session:
        session.execute(update(AgentReport).where(AgentReport.id == report_id).values(
            delivery_status="failed" if error else "delivered", delivery_error=error,
            delivered_at=None if error else utcnow()))


@implements(RUN_AGENT_REPORT_TASK)
async def run_agent_report_task(ctx: JobContext, job_config_id: int | None = None, period_end: str | None = None,
                                **kwargs: Any) -> dict[str, Any]:
    """Build (or reuse) the digest of this firing and deliver it; a failed delivery is retried."""
    try:
        end = datetime.fromisoformat(period_end) if period_end else utcnow()
    except ValueError as exc:
        raise PermanentJobError(f"period_end {period_end!r} is not an ISO date-time") from exc
    report, target = await asyncio.to_thread(_report, ctx.resources.sessions, SecretBox(ctx.settings),
                                             job_config_id, end, kwargs)
    if report.delivery_status == "delivered":
        return {"report_id": report.id, "delivered": True, "reused": True}
    try:
        await _deliver(ctx, report, target)
    except DeliveryError as exc:
        await asyncio.to_thread(_mark, ctx.resources.sessions, report.id, str(exc)[:500])
        raise
    await asyncio.to_thread(_mark, ctx.resources.sessions, report.id, None)
    return {"report_id": report.id, "delivered": True, "failures": report.digest["failures"]}
