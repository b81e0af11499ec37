"""Data of the operator pages that steer the system: tenants, schedules, controller and chat
(alerts and settings follow their APIs). Built from the same services as the JSON API."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_api.chat.services import conversation_view, list_conversations
from admin_api.context import ApiContext
from admin_api.controller_status.services import controller_status
from admin_api.errors import NotFound
from admin_api.schedules.services import list_schedules
from admin_api.tenants.services import list_tenants
from core.db.models.ledger import WorkerJobRun
from core.db.models.scheduling import JobRun
from core.db.models.tenants import Tenant

__all__ = ["chat_context", "controller_context", "schedules_context", "tenants_context"]


def _tenant_names(session: Session) -> dict[int, str]:
    return {tid: name for tid, name in session.execute(select(Tenant.id, Tenant.name))}


async def tenants_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {"tenants": await ctx.read(list_tenants)}


def _last_runs(session: Session) -> dict[int, dict[str, Any]]:
    """Per schedule its newest firing and the state of the job it enqueued."""
    newest = select(func.max(JobRun.id)).group_by(JobRun.job_config_id)
    rows = session.execute(
        select(JobRun.job_config_id, JobRun.scheduled_for, JobRun.worker_job_run_id, WorkerJobRun.status,
               WorkerJobRun.finished_at, WorkerJobRun.error_type)
        .outerjoin(WorkerJobRun, WorkerJobRun.id == JobRun.worker_job_run_id)
        .where(JobRun.id.in_(newest))).all()
    return {config_id: {"at": at.isoformat(), "run_id": run_id, "status": status,
                        "finished_at": finished.isoformat() if finished else None, "error_type": error}
            for config_id, at, run_id, status, finished, error in rows}


def _schedules(session: Session) -> dict[str, Any]:
    items, last, names = list_schedules(session), _last_runs(session), _tenant_names(session)
    for item in items:
        item["last_run"] = last.get(item["id"])
        item["tenant_name"] = names.get(item["tenant_id"]) if item.get("tenant_id") else None
    return {"schedules": items}


async def schedules_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    return await ctx.read(_schedules)


def _ago(iso_or_none: Any, now: float) -> float | None:
    return None if iso_or_none is None else max(0.0, now - iso_or_none.timestamp())


async def controller_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    status = await controller_status(ctx.resources.redis)
    now = status.checked_at.timestamp()
    loops = [{**msgspec.structs.asdict(loop), "last_run_age_s": _ago(loop.last_run_at, now),
              "last_ok_age_s": _ago(loop.last_ok_at, now), "last_error_age_s": _ago(loop.last_error_at, now)}
             for loop in status.loops]
    return {"status": status, "loops": loops, "now": time.time()}


def _chat(session: Session, selected: int | None) -> dict[str, Any]:
    conversation = None
    if selected is not None:
        try:
            conversation = msgspec.to_builtins(conversation_view(session, selected))
        except NotFound:
            conversation = None
    tenants = [{"id": tid, "name": name} for tid, name in sorted(_tenant_names(session).items())]
    return {"conversations": list_conversations(session).items, "conversation": conversation, "tenants": tenants}


async def chat_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    raw = request.query_params.get("conversation", "")
    selected = int(raw) if raw.isdigit() and 0 < int(raw) < 2**63 else None
    page = await ctx.read(lambda s: _chat(s, selected))
    page["page_data"] = {"conversation": page["conversation"]}  # the thread, for the polling script
    return page
