"""The facts a chat answer may use, read from the database: totals, top failing iflows, recent
error texts, open alerts and daily stats. Never payloads, headers or tenant credentials; error
texts pass through :func:`scrub` so a credential that leaked into one is not repeated.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.db.models.alerting import Alert, AlertRule
from core.db.models.base import utcnow
from core.db.models.messages import MessageLog
from core.db.models.stats import StatsBucket

__all__ = ["FAILURE_STATUSES", "build_context", "scrub"]

FAILURE_STATUSES = ("FAILED", "ESCALATED")
_SECRETS = re.compile(
    r"(?i)(bearer\s+[\w\-.=]+|basic\s+[a-z0-9+/=]{8,}|"
    r"(password|passwd|pwd|secret|token|api[_-]?key|client_secret)\s*[=:]\s*\S+)")


def scrub(text: str, limit: int = 300) -> str:
    """First line of ``text``, credentials replaced by ``[redacted]``, trimmed to ``limit``."""
    line = text.strip().splitlines()[0] if text and text.strip() else ""
    return _SECRETS.sub("[redacted]", line)[:limit]


def _scoped(query: Any, tenant_id: int | None) -> Any:
    return query.where(MessageLog.tenant_id == tenant_id) if tenant_id is not None else query


def _iflow_counts(session: Session, tenant_id: int | None, since: Any) -> list[tuple[int, str, int, int]]:
    """(tenant, iflow, messages, failures) per iflow in the window."""
    failed = func.sum(case((MessageLog.status.in_(FAILURE_STATUSES), 1), else_=0))
    query = _scoped(select(MessageLog.tenant_id, MessageLog.iflow_id, func.count(), failed)
                    .where(MessageLog.log_end >= since), tenant_id)
    rows = session.execute(query.group_by(MessageLog.tenant_id, MessageLog.iflow_id)).all()
    return [(int(tid), str(flow or ""), int(total), int(fails or 0)) for tid, flow, total, fails in rows]


def _rows(counts: list[tuple[int, str, int, int]]) -> list[dict[str, Any]]:
    return [{"tenant_id": tid, "iflow_id": flow, "messages": total, "failures": fails,
             "failure_rate": round(fails / total, 4) if total else 0.0} for tid, flow, total, fails in counts]


def _recent_errors(session: Session, tenant_id: int | None, since: Any) -> list[dict[str, Any]]:
    query = _scoped(select(MessageLog.iflow_id, MessageLog.log_end, MessageLog.error_text).where(
        MessageLog.log_end >= since, MessageLog.status.in_(FAILURE_STATUSES), MessageLog.error_text.is_not(None)),
        tenant_id).order_by(MessageLog.log_end.desc()).limit(200)
    seen: dict[str, dict[str, Any]] = {}
    for flow, at, text in session.execute(query):
        line = scrub(text)
        if line and line not in seen and len(seen) < 10:
            seen[line] = {"iflow_id": flow or "", "at": at.isoformat() if at else None, "error": line}
    return list(seen.values())


def _open_alerts(session: Session, tenant_id: int | None) -> list[dict[str, Any]]:
    query = select(AlertRule.name, Alert.scope_key, Alert.current_count, Alert.opened_at).join(
        AlertRule, AlertRule.id == Alert.rule_id).where(Alert.status == "open")
    if tenant_id is not None:
        query = query.where(Alert.tenant_id == tenant_id)
    rows = session.execute(query.order_by(Alert.opened_at.desc()).limit(10)).all()
    return [{"rule": name, "scope": scope, "count": count, "opened_at": at.isoformat()}
            for name, scope, count, at in rows]


def _daily(session: Session, tenant_id: int | None) -> list[dict[str, Any]]:
    query = select(StatsBucket.bucket_start, func.sum(StatsBucket.message_count), func.sum(StatsBucket.failed_count)
                   ).where(StatsBucket.granularity == "day", StatsBucket.package_id == "*",
                           StatsBucket.status == "*", StatsBucket.bucket_start >= utcnow() - timedelta(days=7))
    if tenant_id is not None:
        query = query.where(StatsBucket.tenant_id == tenant_id)
    rows = session.execute(query.group_by(StatsBucket.bucket_start).order_by(StatsBucket.bucket_start)).all()
    return [{"day": day.date().isoformat(), "messages": int(m), "failures": int(f)} for day, m, f in rows]


def build_context(session: Session, tenant_id: int | None, hours: int = 24) -> dict[str, Any]:
    """Everything an answer may cite, as small JSON."""
    since = utcnow() - timedelta(hours=hours)
    totals = _scoped(select(MessageLog.status, func.count()).where(MessageLog.log_end >= since), tenant_id)
    by_status = {status: int(n) for status, n in session.execute(totals.group_by(MessageLog.status))}
    counts = _iflow_counts(session, tenant_id, since)
    failing = sorted((c for c in counts if c[3]), key=lambda c: (-c[3], c[1]))[:10]
    busiest = sorted(counts, key=lambda c: (-c[2], c[1]))[:20]
    return {
        "window_hours": hours, "tenant_id": tenant_id, "messages_by_status": by_status,
        "top_failing_iflows": _rows(failing), "busiest_iflows": _rows(busiest),
        "recent_errors": _recent_errors(session, tenant_id, since),
        "open_alerts": _open_alerts(session, tenant_id), "daily": _daily(session, tenant_id),
    }
