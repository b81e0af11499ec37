"""The pressure loop against real PostgreSQL and Redis: store samples, verdicts per group, and the
DesiredWorkers metric (capped while CPI throttles) published to moto's CloudWatch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import boto3
import pytest
from sqlalchemy import insert, select

from controller.pressure import PressureSampler
from core.cpi.metrics import LATENCY_BOUNDS_MS
from core.db.models.base import utcnow
from core.db.models.controller import QueueSample, WorkerProcess
from core.db.models.cpi_calls import CpiCallStat
from core.db.models.pressure import StorePressureSample
from core.pressure.verdict import VerdictCode
from core.resources import Resources
from tests.integration.controller.conftest import add_tenants
from tests.moto_server import FAKE_AWS_ENV, moto_server


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_server() as endpoint:
        for key, value in {**FAKE_AWS_ENV, "AWS_ENDPOINT_URL_CLOUDWATCH": endpoint,
                           "AWS_DEFAULT_REGION": "eu-central-1"}.items():
            monkeypatch.setenv(key, value)
        yield endpoint


def seed_backlog(resources: Resources, *, throttled: bool) -> None:
    """light: 950 ready, one live worker with both slots busy; messagelog-process-batch: 300 ready, no worker."""
    now = utcnow()
    (tenant_id,) = add_tenants(resources.sessions, 1)
    histogram = [0] * (len(LATENCY_BOUNDS_MS) + 1)
    histogram[4] = 100
    with resources.sessions.begin() as session:
        session.execute(insert(QueueSample), [
            {"sampled_at": now, "queue": "messagelog_read", "group_name": "light", "ready": 950, "deferred": 0,
             "running": 2, "oldest_ready_age_s": 42.0},
            {"sampled_at": now, "queue": "messagelog_process_batch", "group_name": "messagelog-process-batch",
             "ready": 300, "deferred": 0, "running": 0, "oldest_ready_age_s": 5.0}])
        session.execute(insert(WorkerProcess).values(
            worker_id="w-light-1", group_name="light", queues=["messagelog_read"], concurrency=2, running=["a", "b"],
            status="live", last_seen=now))
        session.execute(insert(CpiCallStat).values(
            sampled_at=now, tenant_id=tenant_id, family="monitoring", requests=100, throttled=40 if throttled else 0,
            server_errors=0, timeouts=0, retries=40 if throttled else 0, retry_wait_ms=20_000.0 if throttled else 0,
            latency_sum_ms=5000.0, latency_histogram=histogram))


async def test_store_samples_and_verdicts(resources: Resources) -> None:
    seed_backlog(resources, throttled=True)
    sampler = PressureSampler(resources.settings, resources.engine, resources.sessions, resources.redis)
    await sampler.tick()
    report = await sampler.tick()  # the second sample has rates
    with resources.sessions() as session:
        stores = [row.store for row in session.execute(select(StorePressureSample)).scalars()]
    assert sorted(stores) == ["database", "database", "redis", "redis"]
    assert report.stores.database is not None
    assert report.stores.database.dialect == "postgresql"
    assert report.stores.database.commits_per_s is not None
    assert report.stores.database.max_connections is not None
    assert report.stores.redis is not None
    assert report.stores.redis.cpu_percent is not None
    groups = {g.facts.group: g for g in report.groups}
    light = groups["light"]
    assert (light.facts.ready, light.facts.slots, light.facts.workers) == (950, 2, 1)
    assert light.verdict.code is VerdictCode.CPI_THROTTLED
    assert light.desired_workers == 1  # capped at the live workers: more would only hit the 429s harder
    batch = groups["messagelog-process-batch"]
    assert batch.verdict.code is VerdictCode.ADD_WORKERS  # does not call CPI; nothing else is the limit
    assert batch.desired_workers == 30  # no live worker: 300 ready / (2 catalog slots x 5 per slot)
    assert groups["ai"].verdict.code is VerdictCode.IDLE


async def test_desired_workers_published_to_cloudwatch(resources: Resources, moto_endpoint: str) -> None:
    seed_backlog(resources, throttled=False)
    settings = replace(resources.settings, cloudwatch_namespace="IntegraMon/Test")
    report = await PressureSampler(settings, resources.engine, resources.sessions, resources.redis).tick()
    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto_endpoint, region_name="eu-central-1")
    stats = cloudwatch.get_metric_statistics(
        Namespace="IntegraMon/Test", MetricName="DesiredWorkers",
        Dimensions=[{"Name": "WorkerGroup", "Value": "light"}],
        StartTime=report.at - timedelta(minutes=5), EndTime=report.at + timedelta(minutes=5), Period=60,
        Statistics=["Maximum"])
    assert [p["Maximum"] for p in stats["Datapoints"]] == [95.0]  # not throttled: 950 / (2 slots x 5)
    listed = cloudwatch.list_metrics(Namespace="IntegraMon/Test", MetricName="DesiredWorkers")["Metrics"]
    assert len(listed) == 11
