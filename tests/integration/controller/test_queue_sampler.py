"""Queue sampler against real Redis and PostgreSQL, and CloudWatch publishing against moto's server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import boto3
import pytest
from sqlalchemy import insert, select

from controller.depth import QueueSampler
from core.db.models.base import utcnow
from core.db.models.controller import QueueSample
from core.resources import Resources
from tests.moto_server import FAKE_AWS_ENV, moto_server


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's CloudWatch on loopback; boto3 finds it through AWS_ENDPOINT_URL_CLOUDWATCH."""
    with moto_server() as endpoint:
        for key, value in {**FAKE_AWS_ENV, "AWS_ENDPOINT_URL_CLOUDWATCH": endpoint,
                           "AWS_DEFAULT_REGION": "eu-central-1"}.items():
            monkeypatch.setenv(key, value)
        yield endpoint


async def _fill_queue(resources: Resources, now_ms: int) -> None:
    redis = resources.redis
    await redis.zadd(
        "arq:queue:messagelog_read",
        {
            "ready-old": now_ms - 30_000,
            "ready-1": now_ms - 5_000,
            "ready-2": now_ms - 1_000,
            "running-1": now_ms - 60_000,
            "later-1": now_ms + 60_000,
            "later-2": now_ms + 120_000,
        },
    )
    await redis.set("arq:in-progress:running-1", "w1", px=10_000)
    await redis.zadd("arq:queue:payload_read", {"p-1": now_ms - 2_000})


async def test_sample_counts_ready_deferred_running_and_oldest_age(resources: Resources) -> None:
    now = utcnow()
    await _fill_queue(resources, int(now.timestamp() * 1000))
    with resources.sessions() as session, session.begin():
        session.execute(
            insert(QueueSample).values(
                sampled_at=now - timedelta(days=30), queue="ai", group_name="ai", ready=1, deferred=0, running=0
            )
        )

    depths = {d.queue: d for d in await QueueSampler(resources.settings, resources.sessions, resources.redis).tick(now)}

    read = depths["messagelog_read"]
    assert (read.ready, read.deferred, read.running) == (3, 2, 1)
    assert read.oldest_ready_age_s == pytest.approx(30.0, abs=0.01)
    assert depths["ai"].ready == 0
    assert depths["ai"].oldest_ready_age_s is None
    with resources.sessions() as session:
        stored = session.execute(select(QueueSample)).scalars().all()
    assert len(stored) == len(depths) == 18  # one row per catalogued queue; the 30-day-old sample is pruned
    assert {s.queue: (s.ready, s.deferred, s.running, s.group_name) for s in stored}["messagelog_read"] == (
        3,
        2,
        1,
        "light",
    )


async def test_ready_jobs_per_group_are_published_to_cloudwatch(resources: Resources, moto_endpoint: str) -> None:
    now = utcnow()
    await _fill_queue(resources, int(now.timestamp() * 1000))
    settings = replace(resources.settings, cloudwatch_namespace="IntegraMon/Test")

    await QueueSampler(settings, resources.sessions, resources.redis).tick(now)

    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto_endpoint, region_name="eu-central-1")
    stats = cloudwatch.get_metric_statistics(
        Namespace="IntegraMon/Test",
        MetricName="ReadyJobs",
        Dimensions=[{"Name": "WorkerGroup", "Value": "light"}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=5),
        Period=60,
        Statistics=["Maximum"],
    )
    assert [p["Maximum"] for p in stats["Datapoints"]] == [4.0]  # messagelog_read 3 + payload_read 1
    listed = cloudwatch.list_metrics(Namespace="IntegraMon/Test", MetricName="ReadyJobs")["Metrics"]
    assert len(listed) == 11  # one per worker group
