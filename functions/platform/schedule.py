"""When the deep storage snapshot is due (its own ``metric_settings`` row, created with a daily default).

The controller's metric dispatcher decides when ``host_metrics``, ``api_metrics`` and ``storage`` are due
and enqueues their dispatch tasks; only the deep snapshot, which is much rarer than the quick one, has
its own cadence here.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.db.models.tuning import MetricSettings

__all__ = ["DEFAULT_INTERVALS", "claim_if_due"]

# metric name -> default interval (seconds) when no metric_settings row exists yet
DEFAULT_INTERVALS = {"storage_deep": 86_400}


def _claim(session: Session, metric: str) -> bool:
    row = session.scalar(select(MetricSettings).where(MetricSettings.metric == metric).with_for_update())
    now = utcnow()
    if row is None:
        session.add(MetricSettings(metric=metric, enabled=True, interval_seconds=DEFAULT_INTERVALS[metric],
                                   last_dispatched_at=now))
        return True
    if not row.enabled:
        return False
    if row.last_dispatched_at and now - row.last_dispatched_at < timedelta(seconds=row.interval_seconds * 0.95):
        return False
    row.last_dispatched_at = now
    return True


def claim_if_due(sessions: sessionmaker[Session], metric: str) -> bool:
    """True when ``metric`` is enabled and its interval has passed; marks it dispatched in the same step."""
    try:
        with sessions.begin() as session:
            return _claim(session, metric)
    except IntegrityError:  # another dispatcher created the row at the same moment: it dispatches
        return False
