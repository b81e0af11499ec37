"""Retention enforcement: old message logs go through the archive; time series and history are trimmed.

Message logs are never deleted here when ``archive.before_prune`` is on: the days past retention
are handed to ``archive_cpi_day``, which prunes them only after the upload was read back and matched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.config_keys import read_config, read_int
from core.db.models.alerting import Alert
from core.db.models.base import utcnow
from core.db.models.chat import ChatConversation
from core.db.models.messages import MessageLog
from core.db.models.platform import AgentReport, ApiMetricSample, HostMetricSample, StorageSnapshot
from core.db.models.stats import StatsBucket
from core.db.models.tenants import Tenant

__all__ = ["MAX_DAYS_PER_TENANT", "RetentionPlan", "day_bounds", "plan_message_retention", "trim_history"]

MAX_DAYS_PER_TENANT = 31  # bounds one run; the next run continues where this one stopped


@dataclass(slots=True)
class RetentionPlan:
    """Tenant-days to archive (then prune) and rows deleted directly."""

    to_archive: list[tuple[int, date]] = field(default_factory=list)
    deleted_logs: int = 0


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _days_before(session: Session, tenant_id: int, cutoff: date) -> list[date]:
    """Days (by LogEnd) before ``cutoff`` that still hold logs of the tenant, oldest first (one query per day)."""
    limit, _ = day_bounds(cutoff)
    days: list[date] = []
    cursor: datetime | None = None
    while len(days) < MAX_DAYS_PER_TENANT:
        query = select(func.min(MessageLog.log_end)).where(MessageLog.tenant_id == tenant_id,
                                                            MessageLog.log_end < limit)
        if cursor is not None:
            query = query.where(MessageLog.log_end >= cursor)
        found = session.scalar(query)
        if found is None:
            break
        day = found.astimezone(UTC).date()
        days.append(day)
        cursor = day_bounds(day)[1]
    return days


def plan_message_retention(session: Session) -> RetentionPlan:
    """For each tenant: days past retention are queued for the archive, or deleted when archiving is off."""
    plan = RetentionPlan()
    today = utcnow().date()
    for tenant_id in session.scalars(select(Tenant.id).order_by(Tenant.id)):
        cutoff = today - timedelta(days=read_int(session, "retention.message_log_days", tenant_id))
        archive_first = bool(read_config(session, "archive.before_prune", tenant_id))
        for day in _days_before(session, tenant_id, cutoff):
            if archive_first:
                plan.to_archive.append((tenant_id, day))
                continue
            start, end = day_bounds(day)
            result = session.execute(delete(MessageLog).where(
                MessageLog.tenant_id == tenant_id, MessageLog.log_end >= start, MessageLog.log_end < end))
            plan.deleted_logs += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return plan


def _trim(session: Session, column: InstrumentedAttribute[datetime], days: int) -> int:
    result = session.execute(delete(column.class_).where(column < utcnow() - timedelta(days=days)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def trim_history(session: Session) -> dict[str, int]:
    """Delete time-series samples, hourly stats, resolved alerts, reports and chats past their retention."""
    metrics = read_int(session, "retention.metrics_days")
    counts = {
        "host_metric_sample": _trim(session, HostMetricSample.taken_at, metrics),
        "api_metric_sample": _trim(session, ApiMetricSample.taken_at, metrics),
        "storage_snapshot": _trim(session, StorageSnapshot.taken_at, metrics),
        "agent_report": _trim(session, AgentReport.created_at, read_int(session, "retention.agent_report_days")),
        "chat_conversation": _trim(session, ChatConversation.updated_at, read_int(session, "retention.chat_days")),
    }
    hour_cutoff = utcnow() - timedelta(days=read_int(session, "retention.stats_hour_days"))
    result = session.execute(delete(StatsBucket).where(
        StatsBucket.granularity == "hour", StatsBucket.bucket_start < hour_cutoff))
    counts["stats_bucket_hour"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    alert_cutoff = utcnow() - timedelta(days=read_int(session, "retention.resolved_alert_days"))
    result = session.execute(delete(Alert).where(Alert.status == "resolved", Alert.resolved_at < alert_cutoff))
    counts["alert"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return counts
