"""What the alarms and the autoscaling read, published by the real queue sampler to moto's CloudWatch:
the ready-jobs metric under its configured name, LeaderPresent and the outbox backlog."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import boto3
import pytest
from sqlalchemy import insert

from controller.depth import QueueSampler
from core.db.models.base import utcnow
from core.db.models.outbox import OutboxEvent
from core.resources import open_resources
from core.settings import Settings
from tests.infra.toolchain import TERRAFORM_DIR, module_blocks
from tests.moto_server import FAKE_AWS_ENV, moto_server

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef

NAMESPACE = "IntegraMon/InfraTest"


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_server() as endpoint:
        for key, value in {**FAKE_AWS_ENV, "AWS_ENDPOINT_URL_CLOUDWATCH": endpoint,
                           "AWS_DEFAULT_REGION": "eu-central-1"}.items():
            monkeypatch.setenv(key, value)
        yield endpoint


def maximum(endpoint: str, metric: str, at: datetime, dimensions: list[DimensionTypeDef] | None = None) -> list[float]:
    cloudwatch = boto3.client("cloudwatch", endpoint_url=endpoint, region_name="eu-central-1")
    stats = cloudwatch.get_metric_statistics(Namespace=NAMESPACE, MetricName=metric, Dimensions=dimensions or [],
                                             StartTime=at - timedelta(minutes=5), EndTime=at + timedelta(minutes=5),
                                             Period=60, Statistics=["Maximum"])
    return [p["Maximum"] for p in stats["Datapoints"]]


async def test_sampler_publishes_the_configured_ready_metric_leader_and_outbox_backlog(
        settings: Settings, moto_endpoint: str) -> None:
    now = utcnow()
    settings = replace(settings, cloudwatch_namespace=NAMESPACE, cloudwatch_ready_metric="ReadyJobsRenamed")
    async with open_resources(settings) as res:
        with res.sessions() as session, session.begin():
            session.execute(insert(OutboxEvent), [
                {"routing_key": "run.failed", "payload": {}, "created_at": now - timedelta(seconds=90)},
                {"routing_key": "run.failed", "payload": {}, "created_at": now - timedelta(seconds=10)},
                {"routing_key": "run.failed", "payload": {}, "created_at": now - timedelta(hours=1), "sent_at": now},
            ])
        await QueueSampler(settings, res.sessions, res.redis).tick(now)

    assert maximum(moto_endpoint, "ReadyJobsRenamed", now, [{"Name": "WorkerGroup", "Value": "light"}]) == [0.0]
    assert maximum(moto_endpoint, "ReadyJobs", now, [{"Name": "WorkerGroup", "Value": "light"}]) == []
    assert maximum(moto_endpoint, "LeaderPresent", now) == [1.0]
    assert maximum(moto_endpoint, "OutboxBacklog", now) == [2.0]
    assert maximum(moto_endpoint, "OutboxOldestAgeSeconds", now) == [90.0]


def test_the_alarms_read_the_metrics_the_controller_publishes() -> None:
    """Names in the Terraform alarms = names in controller.controller_metrics and controller.depth."""
    from controller.controller_metrics import LEADER_METRIC, OUTBOX_METRIC
    from controller.depth import CloudWatchPublisher

    text = "\n".join(p.read_text() for p in (TERRAFORM_DIR / "modules" / "monitoring").glob("*.tf"))
    for name in (LEADER_METRIC, OUTBOX_METRIC, CloudWatchPublisher.AGE_METRIC):
        assert f'"{name}"' in text, f"no alarm reads {name}"
    variables = module_blocks(TERRAFORM_DIR, "variable")
    assert variables["ready_jobs_metric_name"]["default"] == Settings().cloudwatch_ready_metric
