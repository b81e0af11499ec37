"""Rule conditions: for one rule, which scopes fire now and with what count.

Scope keys name what one alert stands for: ``tenant:<id>``, ``package:<id>:<package>`` or
``iflow:<id>:<iflow>``. A condition returns only the firing scopes; the engine resolves the others.

Windows are bounded on both sides at the job's own time: a message is "in the last W minutes" when
``now - W < LogEnd <= now``. A LogEnd after ``now`` (CPI clock ahead of ours, or a job evaluated for a
past moment) is clamped: ``failed_messages`` does not count it in this window (it will be counted by the
runs whose window reaches it), ``no_messages`` treats it as seen at ``now``; both log how many there were.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.db.models.alerting import AlertRule
from core.db.models.messages import MessageLog

__all__ = ["CONDITIONS", "SCOPES", "Finding", "failed_messages", "group_artifacts", "no_messages", "scope_of"]

log = logging.getLogger(__name__)

SCOPES = ("tenant", "package", "iflow")
CONDITIONS = ("failed_messages", "artifact_error", "no_messages")
SAMPLE_GUIDS = 20
KNOWN_IFLOW_DAYS = 7


@dataclass(slots=True)
class Finding:
    """One firing scope: its count (messages, artifacts or silent minutes) and what explains it."""

    scope_key: str
    package_id: str | None
    iflow_id: str | None
    count: int = 0
    summary: str = ""
    guids: list[str] = field(default_factory=list)


def scope_of(rule: AlertRule, package_id: str | None, iflow_id: str | None) -> tuple[str, str | None, str | None]:
    """(scope key, package, iflow) of a row at the rule's scope level."""
    if rule.scope == "iflow":
        return f"iflow:{rule.tenant_id}:{iflow_id or ''}", package_id, iflow_id
    if rule.scope == "package":
        return f"package:{rule.tenant_id}:{package_id or ''}", package_id, None
    return f"tenant:{rule.tenant_id}", None, None


def _narrowing(rule: AlertRule) -> list[ColumnElement[bool]]:
    """The rule's optional package / iflow filter as WHERE clauses."""
    clauses = []
    if rule.package_id:
        clauses.append(MessageLog.package_id == rule.package_id)
    if rule.iflow_id:
        clauses.append(MessageLog.iflow_id == rule.iflow_id)
    return clauses


def _in_window(since: datetime, now: datetime) -> list[ColumnElement[bool]]:
    """``since < LogEnd <= now``."""
    return [MessageLog.log_end > since, MessageLog.log_end <= now]


def _log_future(session: Session, rule: AlertRule, now: datetime, *clauses: ColumnElement[bool]) -> int:
    """Count (and log once per evaluation) the rule's messages whose LogEnd lies after ``now``."""
    future = int(session.scalar(select(func.count()).select_from(MessageLog).where(
        MessageLog.tenant_id == rule.tenant_id, MessageLog.log_end > now, *clauses, *_narrowing(rule))) or 0)
    if future:
        log.warning("alert rule %s (tenant %s): %d message(s) with LogEnd after %s, clamped to the window's end",
                    rule.id, rule.tenant_id, future, now.isoformat())
    return future


def _sample_guids(session: Session, rule: AlertRule, finding: Finding, since: datetime, now: datetime) -> list[str]:
    query = select(MessageLog.message_guid).where(
        MessageLog.tenant_id == rule.tenant_id, MessageLog.status.in_(rule.statuses), *_in_window(since, now))
    if finding.package_id is not None:
        query = query.where(MessageLog.package_id == finding.package_id)
    if finding.iflow_id is not None:
        query = query.where(MessageLog.iflow_id == finding.iflow_id)
    query = query.where(*_narrowing(rule))
    return list(session.scalars(query.order_by(MessageLog.log_end.desc()).limit(SAMPLE_GUIDS)))


def failed_messages(session: Session, rule: AlertRule, now: datetime) -> list[Finding]:
    """Scopes with at least ``threshold`` messages in ``statuses`` with ``now - window < LogEnd <= now``."""
    since = now - timedelta(minutes=rule.window_minutes)
    _log_future(session, rule, now, MessageLog.status.in_(rule.statuses))
    query = select(MessageLog.package_id, MessageLog.iflow_id, func.count()).where(
        MessageLog.tenant_id == rule.tenant_id, MessageLog.status.in_(rule.statuses), *_in_window(since, now),
        *_narrowing(rule))
    findings: dict[str, Finding] = {}
    for package_id, iflow_id, count in session.execute(query.group_by(MessageLog.package_id, MessageLog.iflow_id)):
        key, pkg, flow = scope_of(rule, package_id, iflow_id)
        finding = findings.setdefault(key, Finding(key, pkg, flow))
        finding.count += int(count)
    firing = [f for f in findings.values() if f.count >= rule.threshold]
    for finding in firing:
        finding.summary = (f"{finding.count} messages {'/'.join(rule.statuses)} in the last "
                           f"{rule.window_minutes} min (threshold {rule.threshold})")
        finding.guids = _sample_guids(session, rule, finding, since, now)
    return firing


def no_messages(session: Session, rule: AlertRule, now: datetime) -> list[Finding]:
    """Scopes that sent messages in the last week but none with ``now - window < LogEnd <= now``;
    count = silent minutes. A LogEnd after ``now`` is clamped to ``now`` (the scope is not silent)."""
    known_since = now - timedelta(days=KNOWN_IFLOW_DAYS)
    future = _log_future(session, rule, now)
    query = select(MessageLog.package_id, MessageLog.iflow_id, func.max(MessageLog.log_end)).where(
        MessageLog.tenant_id == rule.tenant_id, MessageLog.log_end > known_since, *_narrowing(rule))
    last_seen: dict[str, tuple[str | None, str | None, datetime]] = {}
    for package_id, iflow_id, last in session.execute(query.group_by(MessageLog.package_id, MessageLog.iflow_id)):
        key, pkg, flow = scope_of(rule, package_id, iflow_id)
        if last is not None and future:
            last = min(last, now)
        if last is not None and (key not in last_seen or last > last_seen[key][2]):
            last_seen[key] = (pkg, flow, last)
    cutoff = now - timedelta(minutes=rule.window_minutes)
    firing = []
    for key, (pkg, flow, last) in last_seen.items():
        if last <= cutoff:  # nothing in (cutoff, now]
            silent = int((now - last).total_seconds() // 60)
            firing.append(Finding(key, pkg, flow, silent, f"no messages for {silent} min (last {last.isoformat()})"))
    return firing


def group_artifacts(rule: AlertRule, errors: dict[str, str], packages: dict[str, str]) -> list[Finding]:
    """Deployed artifacts in ERROR (id -> error line) grouped at the rule's scope level."""
    grouped: dict[str, Finding] = {}
    lines: dict[str, list[str]] = defaultdict(list)
    for artifact_id, error in sorted(errors.items()):
        if rule.iflow_id and artifact_id != rule.iflow_id:
            continue
        package_id = packages.get(artifact_id)
        if rule.package_id and package_id != rule.package_id:
            continue
        key, pkg, flow = scope_of(rule, package_id, artifact_id)
        grouped.setdefault(key, Finding(key, pkg, flow)).count += 1
        lines[key].append(f"{artifact_id}: {error}" if error else artifact_id)
    firing = [f for f in grouped.values() if f.count >= rule.threshold]
    for finding in firing:
        finding.summary = f"{finding.count} deployed artifact(s) in ERROR: " + "; ".join(lines[finding.scope_key])
    return firing
