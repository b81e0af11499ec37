"""Alert queries and the acknowledge action (audited). Acknowledging keeps the alert open: the engine
still updates and resolves it, it only leaves the operator's "open" list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.alerts.schemas import AlertDetail, AlertSample, AlertView, SampleError
from admin_api.audit.services import audit
from admin_api.context import Principal
from admin_api.errors import BadInput, Conflict, NotFound
from core.db.models.alerting import Alert, AlertRule
from core.db.models.base import utcnow
from core.db.models.messages import MessageLog

__all__ = ["acknowledge", "alert_detail", "list_alerts", "sample_error"]


def _status(alert: Alert) -> str:
    if alert.status == "open" and alert.acknowledged_at is not None:
        return "acknowledged"
    return alert.status


def _view(alert: Alert, rule_name: str) -> AlertView:
    return AlertView(
        id=alert.id, rule_id=alert.rule_id, rule_name=rule_name, tenant_id=alert.tenant_id,
        scope_key=alert.scope_key, package_id=alert.package_id, iflow_id=alert.iflow_id, status=_status(alert),
        current_count=alert.current_count, peak_count=alert.peak_count, evaluations=alert.evaluations,
        summary=alert.summary, opened_at=alert.opened_at, updated_at=alert.updated_at,
        resolved_at=alert.resolved_at, acknowledged_at=alert.acknowledged_at, acknowledged_by=alert.acknowledged_by)


def _filtered(stmt: Any, status: str | None, tenant_id: int | None,
              rule_id: int | None) -> Any:
    if status == "open":
        stmt = stmt.where(Alert.status == "open", Alert.acknowledged_at.is_(None))
    elif status == "acknowledged":
        stmt = stmt.where(Alert.status == "open", Alert.acknowledged_at.is_not(None))
    elif status == "resolved":
        stmt = stmt.where(Alert.status == "resolved")
    if tenant_id is not None:
        stmt = stmt.where(Alert.tenant_id == tenant_id)
    if rule_id is not None:
        stmt = stmt.where(Alert.rule_id == rule_id)
    return stmt


def _cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or not 0 < int(cursor) < 2**63:
        raise BadInput("cursor", "not a cursor returned by this list")
    return int(cursor)


def list_alerts(session: Session, status: str | None, tenant_id: int | None, rule_id: int | None, limit: int,
                cursor: str | None) -> tuple[list[AlertView], str | None]:
    """Newest first, keyset-paged by id (stable while the engine opens new alerts)."""
    before = _cursor(cursor)
    stmt = _filtered(select(Alert, AlertRule.name).join(AlertRule, AlertRule.id == Alert.rule_id),
                     status, tenant_id, rule_id)
    if before is not None:
        stmt = stmt.where(Alert.id < before)
    rows = session.execute(stmt.order_by(Alert.id.desc()).limit(limit + 1)).all()
    items = [_view(alert, name) for alert, name in rows[:limit]]
    return items, (str(items[-1].id) if len(rows) > limit else None)


def _load(session: Session, alert_id: int) -> tuple[Alert, str]:
    row = session.execute(select(Alert, AlertRule.name).join(AlertRule, AlertRule.id == Alert.rule_id)
                          .where(Alert.id == alert_id)).first()
    if row is None:
        raise NotFound(f"no alert with id {alert_id}")
    return row[0], row[1]


def alert_detail(session: Session, alert_id: int) -> AlertDetail:
    alert, name = _load(session, alert_id)
    guids = [str(g) for g in alert.sample_guids or []]
    stored = {m.message_guid: m for m in session.scalars(
        select(MessageLog).where(MessageLog.tenant_id == alert.tenant_id, MessageLog.message_guid.in_(guids)))
    } if guids else {}
    samples = []
    for guid in guids:
        m = stored.get(guid)
        if m is None:
            samples.append(AlertSample(message_guid=guid, stored=False))
            continue
        samples.append(AlertSample(
            message_guid=guid, stored=True, status=m.status, iflow_id=m.iflow_id, iflow_name=m.iflow_name,
            log_end=m.log_end, has_error_text=bool(m.error_text),
            error_text_url=f"/api/v1/alerts/{alert.id}/samples/{guid}"))
    return AlertDetail(alert=_view(alert, name), samples=samples)


def sample_error(session: Session, alert_id: int, guid: str) -> SampleError:
    alert, _ = _load(session, alert_id)
    if guid not in (alert.sample_guids or []):
        raise NotFound(f"message {guid!r} is not a sample of alert {alert_id}")
    message = session.scalar(select(MessageLog).where(MessageLog.tenant_id == alert.tenant_id,
                                                      MessageLog.message_guid == guid))
    if message is None:
        raise NotFound(f"message {guid!r} is not stored (yet)")
    return SampleError(alert_id=alert.id, message_guid=guid, tenant_id=alert.tenant_id, status=message.status,
                       error_text=message.error_text, details_fetched_at=message.details_fetched_at)


def acknowledge(session: Session, who: Principal, alert_id: int) -> AlertView:
    """Idempotent: acknowledging twice keeps the first operator and time; a resolved alert is a 409."""
    alert, name = _load(session, alert_id)
    if alert.status != "open":
        raise Conflict(f"alert {alert_id} is {alert.status}; only open alerts can be acknowledged")
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = utcnow(), who.name
        audit(session, who, "alert.acknowledge", f"alert:{alert.id}", {"rule_id": alert.rule_id})
        session.flush()
    return _view(alert, name)
