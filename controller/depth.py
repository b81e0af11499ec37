"""Queue sampler: per queue, how many jobs are ready, deferred and running, and how long the oldest
ready job has waited; stored in ``queue_sample`` and, when configured, sent to CloudWatch.

The numbers come from the Redis kernel's one depth function (:func:`core.queues.depth.queue_depths`,
the same the admin API shows): a bounded cost per sample whatever the backlog.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import asdict
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session, sessionmaker

from controller.cloudwatch import CloudWatchMetrics
from controller.controller_metrics import publish_controller_metrics
from core.db.models.base import utcnow
from core.db.models.controller import QueueSample
from core.queues.depth import QueueDepth, queue_depths
from core.settings import Settings

__all__ = ["CloudWatchPublisher", "QueueDepth", "QueueSampler"]

log = logging.getLogger(__name__)


class CloudWatchPublisher(CloudWatchMetrics):
    """Publishes per-group ready jobs (and oldest-ready age) for autoscaling on the backlog."""

    READY_METRIC = "ReadyJobs"
    AGE_METRIC = "OldestReadyAgeSeconds"

    def publish(self, depths: list[QueueDepth], at: datetime) -> None:
        ready: dict[str, int] = defaultdict(int)
        age: dict[str, float] = defaultdict(float)
        for d in depths:
            ready[d.group_name] += d.ready
            age[d.group_name] = max(age[d.group_name], d.oldest_ready_age_s or 0.0)
        data = []
        for group in sorted(ready):
            dims = [{"Name": "WorkerGroup", "Value": group}]
            data.append({"MetricName": self.READY_METRIC, "Dimensions": dims, "Timestamp": at,
                         "Value": float(ready[group]), "Unit": "Count"})
            data.append({"MetricName": self.AGE_METRIC, "Dimensions": dims, "Timestamp": at,
                         "Value": age[group], "Unit": "Seconds"})
        self.put(data)


class QueueSampler:
    """One ``tick`` samples every catalogued queue, stores the sample and prunes old ones."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], redis: Redis,
                 publisher: CloudWatchPublisher | None = None) -> None:
        self._sessions = sessions
        self._redis = redis
        self._retention = timedelta(days=settings.queue_sample_retention_days)
        self._publisher = publisher
        if publisher is None and settings.cloudwatch_namespace:
            self._publisher = CloudWatchPublisher(settings.cloudwatch_namespace, settings.s3_region)
            self._publisher.READY_METRIC = settings.cloudwatch_ready_metric

    async def tick(self, now: datetime | None = None) -> list[QueueDepth]:
        now = now or utcnow()
        now_ms = int(now.timestamp() * 1000)
        depths = await queue_depths(self._redis, now_ms=now_ms)
        await asyncio.to_thread(self._store, depths, now)
        if self._publisher is not None:
            await asyncio.to_thread(self._publisher.publish, depths, now)
            await asyncio.to_thread(publish_controller_metrics, self._publisher, self._sessions, now)
        return depths

    def _store(self, depths: list[QueueDepth], now: datetime) -> None:
        with self._sessions() as session, session.begin():
            session.execute(insert(QueueSample), [asdict(d) | {"sampled_at": now} for d in depths])
            session.execute(delete(QueueSample).where(QueueSample.sampled_at < now - self._retention))
