"""Turn a rule's findings into alert state: open once per (rule, scope), update counts, resolve.

Each change records its event (``alert.opened`` / ``alert.updated`` / ``alert.resolved``) in the
same transaction, and queues one notification per channel for opens and resolves only, so a
long-running problem produces two messages, not one per evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.alerting.channels import channel_target, shown_channels, shown_target
from core.db.models.alerting import Alert, AlertNotification, AlertRule
from core.events.outbox import record_event
from functions.alerting.conditions import Finding

__all__ = ["Changes", "apply_findings", "event_payload"]


@dataclass(slots=True)
class Changes:
    """What one evaluation changed; ``details`` are (alert id, new guids) for the detail fetcher."""

    opened: int = 0
    updated: int = 0
    resolved: int = 0
    details: list[tuple[int, list[str]]] = field(default_factory=list)


def event_payload(rule: AlertRule, alert: Alert) -> dict[str, Any]:
    """Event and webhook body: identifiers and counts only."""
    return {"alert_id": alert.id, "rule_id": rule.id, "rule": rule.name, "condition": rule.condition,
            "tenant_id": alert.tenant_id, "scope": alert.scope_key, "package_id": alert.package_id,
            "iflow_id": alert.iflow_id, "status": alert.status, "count": alert.current_count,
            "peak": alert.peak_count, "summary": alert.summary, "opened_at": alert.opened_at.isoformat(),
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None}


def _notify(session: Session, rule: AlertRule, alert: Alert, event: str) -> None:
    """One notification per channel, from the rule's redacted copy (no key needed, so the alert opens
    even when the key is wrong): the row keeps the shown target and the channel's position, and
    delivery resolves the real target from the rule."""
    for index, channel in enumerate(shown_channels(rule)):
        target = channel_target(channel)
        if target is not None:
            session.add(AlertNotification(alert_id=alert.id, event=event, channel=str(channel["type"]),
                                          target=shown_target(target), channel_index=index))


def _open(session: Session, rule: AlertRule, finding: Finding, now: datetime, changes: Changes) -> None:
    alert = Alert(rule_id=rule.id, tenant_id=rule.tenant_id, scope_key=finding.scope_key,
                  package_id=finding.package_id, iflow_id=finding.iflow_id, status="open",
                  current_count=finding.count, peak_count=finding.count, evaluations=1, summary=finding.summary,
                  sample_guids=finding.guids, opened_at=now, updated_at=now)
    session.add(alert)
    session.flush()
    record_event(session, "alert.opened", event_payload(rule, alert))
    _notify(session, rule, alert, "opened")
    changes.opened += 1
    if finding.guids:
        changes.details.append((alert.id, finding.guids))


def _update(session: Session, rule: AlertRule, alert: Alert, finding: Finding, now: datetime,
            changes: Changes) -> None:
    alert.evaluations += 1
    if finding.count == alert.current_count and finding.summary == alert.summary:
        return
    new_guids = [g for g in finding.guids if g not in set(alert.sample_guids or [])]
    alert.current_count, alert.peak_count = finding.count, max(alert.peak_count, finding.count)
    alert.summary, alert.sample_guids, alert.updated_at = finding.summary, finding.guids, now
    record_event(session, "alert.updated", event_payload(rule, alert))
    changes.updated += 1
    if new_guids:
        changes.details.append((alert.id, new_guids))


def apply_findings(session: Session, rule: AlertRule, findings: list[Finding], now: datetime) -> Changes:
    """Open, update and resolve the rule's alerts so they match ``findings``."""
    changes = Changes()
    open_alerts = {a.scope_key: a for a in session.scalars(
        select(Alert).where(Alert.rule_id == rule.id, Alert.status == "open").with_for_update())}
    for finding in findings:
        current = open_alerts.pop(finding.scope_key, None)
        if current is None:
            _open(session, rule, finding, now, changes)
        else:
            _update(session, rule, current, finding, now, changes)
    for alert in open_alerts.values():
        alert.status, alert.resolved_at, alert.updated_at = "resolved", now, now
        record_event(session, "alert.resolved", event_payload(rule, alert))
        _notify(session, rule, alert, "resolved")
        changes.resolved += 1
    return changes
