"""Controller-wide CloudWatch metrics published with each queue sample (for alarms, not scaling).

- ``LeaderPresent`` = 1: only the leader samples queues, so *missing* data means no controller
  leads (the alarm treats missing data as breaching).
- ``OutboxBacklog`` and ``OutboxOldestAgeSeconds``: events not yet given to RabbitMQ; a backlog that
  keeps growing means the relay is stuck (broker down, credentials wrong) while the controller lives.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.outbox import OutboxEvent

__all__ = ["LEADER_METRIC", "OUTBOX_AGE_METRIC", "OUTBOX_METRIC", "controller_metric_data",
           "publish_controller_metrics"]

LEADER_METRIC = "LeaderPresent"
OUTBOX_METRIC = "OutboxBacklog"
OUTBOX_AGE_METRIC = "OutboxOldestAgeSeconds"


class MetricSink(Protocol):
    def put(self, data: list[dict[str, Any]]) -> None: ...


def controller_metric_data(sessions: sessionmaker[Session], at: datetime) -> list[dict[str, Any]]:
    """The three datapoints at ``at`` (one indexed count over the unsent outbox rows)."""
    with sessions() as session:
        count, oldest = session.execute(
            select(func.count(), func.min(OutboxEvent.created_at)).where(OutboxEvent.sent_at.is_(None))).one()
    age = max(0.0, (at - oldest).total_seconds()) if oldest is not None else 0.0
    return [
        {"MetricName": LEADER_METRIC, "Timestamp": at, "Value": 1.0, "Unit": "Count"},
        {"MetricName": OUTBOX_METRIC, "Timestamp": at, "Value": float(count), "Unit": "Count"},
        {"MetricName": OUTBOX_AGE_METRIC, "Timestamp": at, "Value": age, "Unit": "Seconds"},
    ]


def publish_controller_metrics(publisher: MetricSink, sessions: sessionmaker[Session], at: datetime) -> None:
    """Send :func:`controller_metric_data` with the queue publisher's client and namespace."""
    publisher.put(controller_metric_data(sessions, at))
