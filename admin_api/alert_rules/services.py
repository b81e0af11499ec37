"""Alert rule changes, each audited in its transaction. Channel targets are shown whole to admins only:
a webhook URL often carries a token and addresses are personal data. Channels are stored and read only
through ``core.alerting.channels`` (redacted copy in the row, the real list sealed)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_api.alert_rules.schemas import (
    AlertRuleCreate,
    AlertRuleUpdate,
    AlertRuleView,
    ChannelView,
    EmailChannel,
    WebhookChannel,
)
from admin_api.audit.services import audit
from admin_api.context import Principal
from admin_api.errors import BadInput, NotFound
from core.alerting.channels import readable_channels, shown_channels, store_channels
from core.db.models.alerting import Alert, AlertRule
from core.db.models.tenants import Tenant
from core.secrets import SecretBox

__all__ = ["create_rule", "delete_rule", "list_rules", "load_rule", "redact_target", "rule_view", "show_rule",
           "update_rule"]


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/…"


def _redact_address(address: str) -> str:
    return "…@" + address.rsplit("@", 1)[-1]


def redact_target(target: str) -> str:
    """A delivery target as a viewer sees it: a URL's scheme and host, addresses' domains only."""
    if "://" in target:
        return _redact_url(target)
    return ", ".join(_redact_address(a.strip()) for a in target.split(",") if a.strip())


def _channel_view(raw: Any, full: bool, opened: bool = True) -> ChannelView:
    """``full``: as stored for admins (``opened`` False: the seal could not be opened, so the stored
    redacted copy is shown and flagged); else reduced to scheme and host / domains for viewers."""
    if not isinstance(raw, dict):
        return ChannelView(type="unknown", redacted=not (full and opened))
    kind = str(raw.get("type", "unknown"))
    url = raw.get("url") if isinstance(raw.get("url"), str) else None
    to = [str(a) for a in raw.get("to") or [] if isinstance(a, str)] if kind == "email" else None
    if not full:
        url = _redact_url(url) if url else None
        to = [_redact_address(a) for a in to] if to is not None else None
    return ChannelView(type=kind, url=url, to=to, redacted=not (full and opened))


def _channel_views(rule: AlertRule, box: SecretBox, who: Principal) -> list[ChannelView]:
    """Admins get the real channels (opened only for them); viewers the stored redacted copy, reduced."""
    if not who.is_admin:
        return [_channel_view(c, False) for c in shown_channels(rule)]
    channels, opened = readable_channels(rule, box)
    return [_channel_view(c, True, opened) for c in channels]


def rule_view(rule: AlertRule, box: SecretBox, who: Principal, open_alerts: int = 0) -> AlertRuleView:
    return AlertRuleView(
        id=rule.id, name=rule.name, tenant_id=rule.tenant_id, scope=rule.scope, package_id=rule.package_id,
        iflow_id=rule.iflow_id, condition=rule.condition, statuses=list(rule.statuses or []),
        window_minutes=rule.window_minutes, threshold=rule.threshold,
        channels=_channel_views(rule, box, who), fetch_details=rule.fetch_details,
        enabled=rule.enabled, open_alerts=open_alerts, created_at=rule.created_at, updated_at=rule.updated_at)


def _open_counts(session: Session, rule_ids: list[int]) -> dict[int, int]:
    if not rule_ids:
        return {}
    rows = session.execute(select(Alert.rule_id, func.count()).where(Alert.rule_id.in_(rule_ids),
                                                                      Alert.status == "open")
                           .group_by(Alert.rule_id)).all()
    return {rid: int(n) for rid, n in rows}


def list_rules(session: Session, box: SecretBox, who: Principal, tenant_id: int | None) -> list[AlertRuleView]:
    stmt = select(AlertRule).order_by(AlertRule.tenant_id, AlertRule.id)
    if tenant_id is not None:
        stmt = stmt.where(AlertRule.tenant_id == tenant_id)
    rules = list(session.scalars(stmt))
    counts = _open_counts(session, [r.id for r in rules])
    return [rule_view(r, box, who, counts.get(r.id, 0)) for r in rules]


def load_rule(session: Session, rule_id: int) -> AlertRule:
    rule = session.get(AlertRule, rule_id)
    if rule is None:
        raise NotFound(f"no alert rule with id {rule_id}")
    return rule


def show_rule(session: Session, box: SecretBox, who: Principal, rule_id: int) -> AlertRuleView:
    rule = load_rule(session, rule_id)
    return rule_view(rule, box, who, _open_counts(session, [rule.id]).get(rule.id, 0))


def _channels(channels: list[WebhookChannel | EmailChannel]) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(c) for c in channels]


def _check_scope(scope: str, package_id: str | None, iflow_id: str | None) -> None:
    """A package-scoped rule cannot name an iflow (the alert would stand for a package but watch one iflow)."""
    if scope == "package" and iflow_id is not None:
        raise BadInput("iflow_id", "a rule with scope 'package' cannot be narrowed to one iflow")


def _audit_details(fields: dict[str, Any]) -> dict[str, Any]:
    """What changed, with channel targets left out of the audit log (it is readable by viewers)."""
    out = dict(fields)
    if "channels" in out:
        out["channels"] = [c.get("type") for c in out["channels"]]
    return out


def create_rule(session: Session, box: SecretBox, who: Principal, body: AlertRuleCreate) -> AlertRuleView:
    if session.get(Tenant, body.tenant_id) is None:
        raise BadInput("tenant_id", f"no tenant with id {body.tenant_id}")
    _check_scope(body.scope, body.package_id, body.iflow_id)
    fields = msgspec.structs.asdict(body)
    fields["channels"] = _channels(body.channels)
    fields["statuses"] = list(body.statuses)
    rule = AlertRule(**{k: v for k, v in fields.items() if k != "channels"})
    store_channels(rule, fields["channels"], box)
    session.add(rule)
    session.flush()
    audit(session, who, "alert_rule.create", f"alert_rule:{rule.id}", _audit_details(fields))
    return rule_view(rule, box, who)


def update_rule(session: Session, box: SecretBox, who: Principal, rule_id: int, body: AlertRuleUpdate
                ) -> AlertRuleView:
    rule = load_rule(session, rule_id)
    changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET}
    if "channels" in changes:
        changes["channels"] = _channels(changes["channels"])
    if "statuses" in changes:
        changes["statuses"] = list(changes["statuses"])
    _check_scope(changes.get("scope", rule.scope), changes.get("package_id", rule.package_id),
                 changes.get("iflow_id", rule.iflow_id))
    for key, value in changes.items():
        if key == "channels":
            store_channels(rule, value, box)
        else:
            setattr(rule, key, value)
    session.flush()
    audit(session, who, "alert_rule.update", f"alert_rule:{rule.id}", _audit_details(changes))
    return rule_view(rule, box, who, _open_counts(session, [rule.id]).get(rule.id, 0))


def delete_rule(session: Session, who: Principal, rule_id: int) -> None:
    """Deleting a rule deletes its alerts too (their meaning is gone with it)."""
    rule = load_rule(session, rule_id)
    audit(session, who, "alert_rule.delete", f"alert_rule:{rule.id}", {"name": rule.name, "tenant_id": rule.tenant_id})
    session.delete(rule)
