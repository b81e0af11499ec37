"""Data of the operator pages that steer the system: tenants, schedules, settings, controller and chat.
Built from the same services as the JSON API (alerts live in ``alert_pages``)."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.chat.services import conversation_view, list_conversations
from admin_api.context import ApiContext, Principal
from admin_api.controller_status.services import controller_status
from admin_api.errors import NotFound
from admin_api.schedules.services import list_schedules
from admin_api.settings.services import all_settings
from admin_api.tenants.services import list_tenants
from core.db.models.tenants import Tenant
from core.secrets import SecretBox

__all__ = ["chat_context", "controller_context", "schedules_context", "settings_context", "tenants_context"]


def _tenant_names(session: Session) -> dict[int, str]:
    return {tid: name for tid, name in session.execute(select(Tenant.id, Tenant.name))}


async def tenants_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The tenants as the API lists them, as plain JSON values: each row embeds itself (``tojson``) for
    the edit form, which sends back only the fields that differ from these."""
    return {"tenants": msgspec.to_builtins(await ctx.read(list_tenants))}


def _schedules(session: Session, box: SecretBox, who: Principal) -> dict[str, Any]:
    """The schedules as the API lists them to this visitor (with their last run; report targets redacted
    for viewers), plus tenant names for display."""
    names = _tenant_names(session)
    items: list[dict[str, Any]] = msgspec.to_builtins(list_schedules(session, box, who))
    for item in items:
        item["tenant_name"] = names.get(item["tenant_id"]) if item["tenant_id"] else None
        last = item["last_run"]
        if last and last.get("tenant_id"):
            last["tenant_name"] = names.get(last["tenant_id"])
    return {"schedules": items}


async def schedules_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    who: Principal = request.state.principal
    return await ctx.read(lambda s: _schedules(s, ctx.secrets, who))


def _settings(session: Session) -> dict[str, Any]:
    names = _tenant_names(session)
    view: dict[str, Any] = msgspec.to_builtins(all_settings(session))
    return {"keys": view["keys"], "metrics": view["metric_settings"], "tenant_names": names,
            "tenants": [{"id": tid, "name": name} for tid, name in sorted(names.items())]}


async def settings_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    return await ctx.read(_settings)


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
