"""The pressure loop: sample database and Redis pressure beside the queue depth, and publish the
per-group ``DesiredWorkers`` metric that backpressure-aware autoscaling follows.

Runs every queue-sample interval. Each tick stores one row per store (pruned with the queue samples'
retention), then computes the bottleneck report (``core.pressure.report``) and, when a CloudWatch
namespace is set, publishes ``DesiredWorkers`` per ``WorkerGroup``: the ready backlog over what one
worker task keeps up with (its slots times ``INTEGRAMON_SCALING_BACKLOG_PER_SLOT``), never above the live
workers while CPI, the database or Redis is the limit, so the autoscaler stops adding tasks that would
only press harder on that limit.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import msgspec
from redis.asyncio import Redis
from sqlalchemy import Engine, delete, insert
from sqlalchemy.orm import Session, sessionmaker

from controller.cloudwatch import CloudWatchMetrics
from core.db.models.base import utcnow
from core.db.models.pressure import StorePressureSample
from core.pressure.database import DatabaseSampler
from core.pressure.redis_info import RedisSampler
from core.pressure.report import BottleneckReport, bottleneck_report
from core.settings import Settings

__all__ = ["DESIRED_METRIC", "DesiredWorkersPublisher", "PressureSampler"]

DESIRED_METRIC = "DesiredWorkers"


class DesiredWorkersPublisher(CloudWatchMetrics):
    """Puts ``DesiredWorkers`` per ``WorkerGroup`` into CloudWatch (next to the sampler's ``ReadyJobs``)."""

    def publish(self, report: BottleneckReport) -> None:
        data = [{"MetricName": DESIRED_METRIC, "Dimensions": [{"Name": "WorkerGroup", "Value": g.facts.group}],
                 "Timestamp": report.at, "Value": float(g.desired_workers), "Unit": "Count"} for g in report.groups]
        self.put(data)


class PressureSampler:
    """One ``tick`` samples both stores, stores and prunes the samples, and publishes DesiredWorkers."""

    def __init__(self, settings: Settings, engine: Engine, sessions: sessionmaker[Session], redis: Redis,
                 publisher: DesiredWorkersPublisher | None = None) -> None:
        self._settings = settings
        self._sessions = sessions
        self._database = DatabaseSampler(engine)
        self._redis = RedisSampler(redis)
        self._retention = timedelta(days=settings.queue_sample_retention_days)
        self._publisher = publisher
        if publisher is None and settings.cloudwatch_namespace:
            self._publisher = DesiredWorkersPublisher(settings.cloudwatch_namespace, settings.s3_region)

    async def tick(self, now: datetime | None = None) -> BottleneckReport:
        now = now or utcnow()
        database = await asyncio.to_thread(self._database.sample)
        redis = await self._redis.sample()
        report = await asyncio.to_thread(self._store_and_report, now, {
            "database": msgspec.to_builtins(database), "redis": msgspec.to_builtins(redis)})
        if self._publisher is not None:
            await asyncio.to_thread(self._publisher.publish, report)
        return report

    def _store_and_report(self, now: datetime, samples: dict[str, Any]) -> BottleneckReport:
        with self._sessions.begin() as session:
            rows = [{"sampled_at": now, "store": store, "values": values} for store, values in samples.items()]
            session.execute(insert(StorePressureSample), rows)
            session.execute(delete(StorePressureSample).where(StorePressureSample.sampled_at < now - self._retention))
        with self._sessions() as session:
            return bottleneck_report(session, backlog_per_slot=self._settings.scaling_backlog_per_slot, now=now)
