"""Data of the Alerts, Alert and Alert rules pages, from the alerts and alert-rules API services."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.alert_rules.services import list_rules
from admin_api.alerts.services import alert_detail, list_alerts, sample_error
from admin_api.context import ApiContext, Principal
from admin_api.errors import BadInput, NotFound
from core.db.models.alerting import AlertRule
from core.db.models.tenants import Tenant
from core.secrets import SecretBox

__all__ = ["ALERT_STATUSES", "alert_context", "alert_rules_context", "alerts_context", "page_principal"]

ALERT_STATUSES = ("open", "acknowledged", "resolved")
PAGE_SIZE = 50


def page_principal(request: Request[Any, Any, Any]) -> Principal:
    """The signed-in visitor, put on the request by the console before the page is built."""
    principal: Principal = request.state.principal
    return principal


def _choices(session: Session) -> dict[str, Any]:
    tenants = [{"id": tid, "name": name} for tid, name in session.execute(select(Tenant.id, Tenant.name)
                                                                          .order_by(Tenant.id))]
    rules = [{"id": rid, "name": name, "tenant_id": tid} for rid, name, tid in session.execute(
        select(AlertRule.id, AlertRule.name, AlertRule.tenant_id).order_by(AlertRule.id))]
    return {"tenants": tenants, "tenant_names": {t["id"]: t["name"] for t in tenants}, "rules": rules}


def _number(raw: str, field: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 2**31:
        raise BadInput(field, "must be a positive number")
    return int(raw)


def _alerts(session: Session, q: Any) -> dict[str, Any]:
    form = {k: q.get(k, "") for k in ("status", "tenant_id", "rule_id")}
    page: dict[str, Any] = {"form": form, "statuses": ALERT_STATUSES, "items": [], "next_cursor": None,
                            "error": None, **_choices(session)}
    try:
        if form["status"] and form["status"] not in ALERT_STATUSES:
            raise BadInput("status", f"one of {', '.join(ALERT_STATUSES)}")
        items, cursor = list_alerts(session, form["status"] or None, _number(form["tenant_id"], "tenant_id"),
                                    _number(form["rule_id"], "rule_id"), PAGE_SIZE, q.get("cursor") or None)
    except BadInput as exc:
        page["error"] = exc.detail
        return page
    page.update(items=msgspec.to_builtins(items), next_cursor=cursor)
    return page


async def alerts_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    return await ctx.read(lambda s: _alerts(s, request.query_params))


def _alert(session: Session, alert_id: int) -> dict[str, Any]:
    detail = msgspec.to_builtins(alert_detail(session, alert_id))
    for sample in detail["samples"]:
        sample["error_text"] = None
        if sample["has_error_text"]:
            try:
                sample["error_text"] = sample_error(session, alert_id, sample["message_guid"]).error_text
            except NotFound:
                sample["error_text"] = None
    names = _choices(session)["tenant_names"]
    return {"alert": detail["alert"], "samples": detail["samples"],
            "tenant_name": names.get(detail["alert"]["tenant_id"])}


async def alert_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    alert_id = int(request.path_params["alert_id"])
    return await ctx.read(lambda s: _alert(s, alert_id))


def _rules(session: Session, box: SecretBox, who: Principal) -> dict[str, Any]:
    choices = _choices(session)
    rules = msgspec.to_builtins(list_rules(session, box, who, None))
    return {"rules": rules, "tenants": choices["tenants"], "tenant_names": choices["tenant_names"]}


async def alert_rules_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    who = page_principal(request)
    return await ctx.read(lambda s: _rules(s, ctx.secrets, who))
