"""``/api/v1/metrics/*`` (queue series, live depth, throughput, durations) and Prometheus ``/metrics``."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, MediaType, Response, get
from litestar.params import Parameter

from admin_api.context import Ctx
from admin_api.metrics.history import duration_percentiles, queue_series, throughput, window_start
from admin_api.metrics.live_depth import queue_depths
from admin_api.metrics.platform import platform_series
from admin_api.metrics.prometheus import CONTENT_TYPE, StateSnapshot, render_metrics
from admin_api.metrics.schemas import (
    DurationsView,
    LiveDepths,
    LiveQueue,
    PlatformSeries,
    QueueSeries,
    ThroughputSeries,
)
from admin_api.params import QueueName, check_names
from admin_api.workers.services import live_workers
from core.pressure.report import bottleneck_report
from core.queues.keys import CONTROLLER_LEADER

__all__ = ["MetricsController", "prometheus_metrics"]

Minutes = Annotated[int, Parameter(ge=1, le=60 * 24 * 14, description="window length in minutes")]
Bucket = Annotated[int, Parameter(ge=10, le=86_400, description="bucket length in seconds")]


class MetricsController(Controller):
    path = "/api/v1/metrics"
    tags = ["metrics"]

    @get("/queues", summary="Per-queue ready / deferred / running / oldest-ready age over time (samples)")
    async def queues(self, ctx: Ctx, minutes: Minutes = 60, queue: QueueName = None) -> QueueSeries:
        check_names(queue, None)
        since = window_start(minutes)
        return QueueSeries(since=since, series=await ctx.read(lambda s: queue_series(s, since, queue)))

    @get("/queues/live", summary="Per-queue depth computed from Redis now")
    async def live(self, ctx: Ctx) -> LiveDepths:
        return LiveDepths(queues=[msgspec.convert(row, LiveQueue) for row in await queue_depths(ctx.resources.redis)])

    @get("/throughput", summary="Finished runs per bucket with failure rate")
    async def throughput(self, ctx: Ctx, minutes: Minutes = 60, bucket_s: Bucket = 60,
                         queue: QueueName = None) -> ThroughputSeries:
        check_names(queue, None)
        since = window_start(minutes)
        points = await ctx.read(lambda s: throughput(s, since, bucket_s, queue))
        return ThroughputSeries(since=since, bucket_s=bucket_s, points=points)

    @get("/platform", summary="Host metrics, admin API request rates and storage sizes over time")
    async def platform(self, ctx: Ctx, minutes: Minutes = 60) -> PlatformSeries:
        since = window_start(minutes)
        return await ctx.read(lambda s: platform_series(s, since))

    @get("/durations", summary="Run duration percentiles and failure rate per queue")
    async def durations(self, ctx: Ctx, minutes: Minutes = 60) -> DurationsView:
        since = window_start(minutes)
        return DurationsView(since=since, queues=await ctx.read(lambda s: duration_percentiles(s, since)))


@get("/metrics", tags=["metrics"], summary="Prometheus text exposition", media_type=MediaType.TEXT)
async def prometheus_metrics(ctx: Ctx) -> Response[str]:
    redis = ctx.resources.redis
    depths = await queue_depths(redis)
    workers = await live_workers(redis)
    leader = bool(await redis.exists(CONTROLLER_LEADER))
    settings = ctx.resources.settings
    report = await ctx.read(lambda s: bottleneck_report(s, backlog_per_slot=settings.scaling_backlog_per_slot))
    snapshot = StateSnapshot(depths, workers, leader, report)
    return Response(render_metrics(snapshot, ctx.stats.prometheus), media_type=CONTENT_TYPE)
