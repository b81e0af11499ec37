"""Platform metric dispatch: ``metric_settings`` rows say which platform metrics are collected and
how often; when one is due the controller enqueues its dispatch task (the collecting functions
belong to the platform family). A conditional UPDATE of ``last_dispatched_at`` claims the slot, so
two controllers never both dispatch it, and the dedup key keeps one dispatch task in flight per metric.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.db.models.tuning import MetricSettings
from core.queues.catalog import (
    API_METRICS_DISPATCH_TASK,
    HOST_METRICS_DISPATCH_TASK,
    STORAGE_DISPATCH_TASK,
    FunctionSpec,
)
from core.queues.enqueue import Enqueuer, EnqueueRequest

__all__ = ["METRIC_DISPATCH_FUNCTIONS", "MetricDispatcher"]

log = logging.getLogger(__name__)

METRIC_DISPATCH_FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType({
    "host_metrics": HOST_METRICS_DISPATCH_TASK,
    "api_metrics": API_METRICS_DISPATCH_TASK,
    "storage": STORAGE_DISPATCH_TASK,
})


class MetricDispatcher:
    """One ``tick`` enqueues the dispatch task of every enabled metric whose interval has passed."""

    def __init__(self, sessions: sessionmaker[Session], enqueuer: Enqueuer) -> None:
        self._sessions = sessions
        self._enqueuer = enqueuer

    async def tick(self, now: datetime | None = None) -> list[str]:
        """Returns the metric names dispatched."""
        now = now or utcnow()
        claimed = await asyncio.to_thread(self._claim_due, now)
        requests = [EnqueueRequest(METRIC_DISPATCH_FUNCTIONS[m], {}, dedup_key=f"metric:{m}")
                    for m in claimed]
        if requests:
            await self._enqueuer.enqueue_many(requests)
        return claimed

    def _claim_due(self, now: datetime) -> list[str]:
        with self._sessions() as session, session.begin():
            rows = session.execute(select(MetricSettings.id, MetricSettings.metric, MetricSettings.interval_seconds,
                                          MetricSettings.last_dispatched_at)
                                   .where(MetricSettings.enabled.is_(True))).all()
            claimed = []
            for row in rows:
                if row.metric not in METRIC_DISPATCH_FUNCTIONS:
                    log.debug("metric_settings row %r has no dispatch task", row.metric)
                    continue
                last = row.last_dispatched_at
                if last is not None and last + timedelta(seconds=max(row.interval_seconds, 1)) > now:
                    continue
                window = now - timedelta(seconds=max(row.interval_seconds, 1))
                condition = (MetricSettings.last_dispatched_at.is_(None) if last is None
                             else MetricSettings.last_dispatched_at <= window)
                result = session.execute(update(MetricSettings).where(MetricSettings.id == row.id, condition)
                                         .values(last_dispatched_at=now))
                if getattr(result, "rowcount", 0) == 1:
                    claimed.append(row.metric)
            return claimed
