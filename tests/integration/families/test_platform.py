"""Platform operations: agent reports, storage snapshots, host and API metrics as time series."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from controller.metrics_dispatch import MetricDispatcher
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.platform import AgentReport, ApiMetricSample, HostMetricSample, StorageSnapshot
from core.db.models.scheduling import JobConfig, JobRun
from core.db.models.tuning import MetricSettings
from core.errors import PermanentJobError
from core.queues.keys import API_STATS, WORKERS_INDEX, worker_key
from core.queues.serialization import decode_job
from core.resources import Resources
from core.schedules.arguments import store_arguments
from core.secrets import SecretBox
from core.storage import open_store
from functions.alerting.delivery import DeliveryError
from functions.platform.api_metrics import api_metrics_collect_task, api_metrics_dispatch_task
from functions.platform.host_metrics import host_metrics_collect_task, host_metrics_dispatch_task
from functions.platform.reports import dispatch_due_agent_reports_task, run_agent_report_task
from functions.platform.storage import storage_dispatch_task, storage_snapshot_deep_task, storage_snapshot_quick_task
from functions.runner.context import JobContext
from tests.integration.families.conftest import add_logs
from tests.stand_ins import http_receiver, smtp_sink


def _report_config(db: sessionmaker[Session], tenant_id: int, **args: object) -> int:
    with db.begin() as s:
        config = JobConfig(
            name="daily digest",
            function="run_agent_report_task",
            tenant_id=tenant_id,
            args={"period_hours": 24, **args},
            interval_seconds=3600,
            next_run_at=utcnow() - timedelta(minutes=1),
        )
        s.add(config)
        s.flush()
        return config.id


async def test_due_reports_dispatched_once_and_schedule_advanced(
    db: sessionmaker[Session], tenant_id: int, redis: Redis, job_ctx: Callable[..., JobContext]
) -> None:
    config_id = _report_config(db, tenant_id, delivery="webhook", target="http://127.0.0.1:9/x")
    assert await dispatch_due_agent_reports_task(job_ctx("dispatch_due_agent_reports_task")) == {"dispatched": 1}
    assert await dispatch_due_agent_reports_task(job_ctx("dispatch_due_agent_reports_task")) == {"dispatched": 0}
    with db() as s:
        config = s.get(JobConfig, config_id)
        assert config is not None
        assert config.next_run_at is not None
        assert config.next_run_at > utcnow()
        run = s.scalar(select(JobRun))
        assert run is not None
        assert run.worker_job_run_id is not None
        ledger = s.get(WorkerJobRun, run.worker_job_run_id)
        assert ledger is not None
        assert ledger.function == "run_agent_report_task"
        assert ledger.args_redacted["job_config_id"] == config_id
    assert await redis.zcard("arq:queue:periodic_run") == 1


async def test_report_digest_delivered_by_webhook_after_retries(
    db: sessionmaker[Session], tenant_id: int, job_ctx: Callable[..., JobContext]
) -> None:
    now = utcnow()
    add_logs(
        db,
        tenant_id,
        [
            {"status": "FAILED", "iflow_id": "Orders", "error_text": "HTTP 503 from backend\nstack", "log_end": now},
            {"status": "ESCALATED", "iflow_id": "Orders", "error_text": "Timeout", "log_end": now},
            {"status": "COMPLETED", "iflow_id": "Orders", "log_end": now},
            {"status": "FAILED", "iflow_id": "Invoices", "log_end": now},
            {"status": "FAILED", "iflow_id": "Old", "log_end": now - timedelta(days=3)},
        ],
    )
    with http_receiver(fail_first=2) as hook:
        config_id = _report_config(db, tenant_id, delivery="webhook", target=hook.url + "/digest")
        end = (now + timedelta(seconds=1)).isoformat()
        result = await run_agent_report_task(job_ctx("run_agent_report_task"), job_config_id=config_id, period_end=end)
        assert result["failures"] == 3
        assert len(hook.requests) == 3  # two 503s, then delivered
        body = hook.requests[-1][1]
    assert [row["iflow_id"] for row in body["iflows"]] == ["Orders", "Invoices"]
    assert sorted(body["iflows"][0]["errors"]) == ["HTTP 503 from backend", "Timeout"]
    assert body["iflows"][0]["failure_rate"] == pytest.approx(2 / 3, abs=1e-4)
    again = await run_agent_report_task(job_ctx("run_agent_report_task"), job_config_id=config_id, period_end=end)
    assert again["reused"] is True
    with db() as s:
        reports = s.scalars(select(AgentReport)).all()
    assert len(reports) == 1
    assert reports[0].delivery_status == "delivered"


async def test_report_webhook_sealed_at_rest_is_dispatched_and_delivered_whole(
    db: sessionmaker[Session], tenant_id: int, resources: Resources, redis: Redis,
    job_ctx: Callable[..., JobContext]
) -> None:
    """The report's webhook URL (its path is the secret) is never in the ``job_config`` row nor in the
    dispatched job; the run reads it through the schedule accessor and posts to the whole URL."""
    add_logs(db, tenant_id, [{"status": "FAILED", "iflow_id": "Orders", "error_text": "boom"}])
    with http_receiver() as hook:
        with db.begin() as s:
            config = JobConfig(name="sealed digest", function="run_agent_report_task", tenant_id=tenant_id,
                               interval_seconds=3600, next_run_at=utcnow() - timedelta(minutes=1))
            store_arguments(config, {"period_hours": 24, "delivery": "webhook",
                                     "target": hook.url + "/hooks/canary-secret-path"}, SecretBox(resources.settings))
            s.add(config)
        with db() as s:
            row = " ".join(str(v) for v in s.execute(text("select * from job_config")).one())
        assert "canary-secret-path" not in row
        assert await dispatch_due_agent_reports_task(job_ctx("dispatch_due_agent_reports_task")) == {"dispatched": 1}
        with db() as s:
            run = s.scalars(select(WorkerJobRun)).one()
        raw = await redis.get(f"arq:job:{run.arq_job_id}")
        assert raw is not None
        kwargs = decode_job(raw)["k"]
        assert "canary-secret-path" not in str(kwargs)
        result = await run_agent_report_task(job_ctx("run_agent_report_task"), **kwargs)
        assert result["delivered"] is True
        assert [path for path, _, _ in hook.requests] == ["/hooks/canary-secret-path"]
    with db() as s:
        stored = " ".join(" ".join(str(v) for v in row) for row in s.execute(text("select * from agent_report")))
    assert "canary-secret-path" not in stored  # the report row keeps the target redacted too


async def test_report_by_email_and_failed_delivery_recorded(
    db: sessionmaker[Session], tenant_id: int, resources: Resources, job_ctx: Callable[..., JobContext]
) -> None:
    add_logs(db, tenant_id, [{"status": "FAILED", "iflow_id": "Orders", "error_text": "boom"}])
    with smtp_sink() as sink:
        mail_res = dataclasses.replace(
            resources, settings=dataclasses.replace(resources.settings, smtp_host="127.0.0.1", smtp_port=sink.port)
        )
        await run_agent_report_task(
            job_ctx("run_agent_report_task", res=mail_res),
            tenant_id=tenant_id,
            delivery="email",
            target="ops@example.com, lead@example.com",
        )
    assert len(sink.messages) == 1
    assert sink.messages[0]["to"] == ["<ops@example.com>", "<lead@example.com>"]
    assert "Orders (tenant" in sink.messages[0]["data"]
    assert "boom" in sink.messages[0]["data"]

    with pytest.raises(DeliveryError, match="SMTP_HOST"):  # e-mail off: recorded, then retried by the runtime
        await run_agent_report_task(
            job_ctx("run_agent_report_task"), tenant_id=tenant_id, delivery="email", target="ops@example.com"
        )
    with db() as s:
        statuses = sorted(s.scalars(select(AgentReport.delivery_status)))
    assert statuses == ["delivered", "failed"]
    with pytest.raises(PermanentJobError, match="delivery must be one of"):
        await run_agent_report_task(job_ctx("run_agent_report_task"), delivery="pigeon", target="x")


async def test_storage_snapshots_quick_and_deep(
    db: sessionmaker[Session], tenant_id: int, resources: Resources, job_ctx: Callable[..., JobContext]
) -> None:
    add_logs(db, tenant_id, [{} for _ in range(5)])
    open_store(resources.settings).put_bytes("archive/x.bin", b"12345", "application/octet-stream")
    quick = await storage_snapshot_quick_task(job_ctx("storage_snapshot_quick_task"))
    deep = await storage_snapshot_deep_task(job_ctx("storage_snapshot_deep_task"))
    assert quick["tables"] > 10
    assert deep["object_store_bytes"] == 5
    assert deep["database_bytes"] > 0
    with db() as s:
        rows = {(r.kind, r.object_name): r for r in s.scalars(select(StorageSnapshot))}
    assert rows[("deep", "message_log")].row_count == 5
    assert (rows[("deep", "message_log")].size_bytes or 0) > 0
    assert rows[("deep", "object_store")].row_count == 1
    assert ("quick", "message_log") in rows
    first = await storage_dispatch_task(job_ctx("storage_dispatch_task"))
    assert first["enqueued"] == ["storage_snapshot_quick_task", "storage_snapshot_deep_task"]
    await resources.redis.flushdb()  # as if both had run
    with db.begin() as s:
        s.execute(delete(WorkerJobRun))
    second = await storage_dispatch_task(job_ctx("storage_dispatch_task"))
    assert second["enqueued"] == ["storage_snapshot_quick_task"]  # deep is daily
    assert (await storage_dispatch_task(job_ctx("storage_dispatch_task")))["enqueued"] == []  # still queued


async def test_host_metrics_collected_and_dispatched_per_worker_host(
    db: sessionmaker[Session], redis: Redis, job_ctx: Callable[..., JobContext]
) -> None:
    result = await host_metrics_collect_task(job_ctx("host_metrics_collect_task"))
    with db() as s:
        sample = s.scalar(select(HostMetricSample))
    assert sample is not None
    assert sample.host == result["host"]
    assert 0 <= sample.memory_percent <= 100
    assert sample.memory_used_bytes > 0
    assert sample.disk_used_bytes > 0
    for wid, host in (("w1", "host-a"), ("w2", "host-b"), ("w3", "host-a")):
        await redis.sadd(WORKERS_INDEX, wid)
        await redis.set(worker_key(wid), json.dumps({"worker_id": wid, "host": host}))
    dispatched = await host_metrics_dispatch_task(job_ctx("host_metrics_dispatch_task"))
    assert dispatched == {"enqueued": 2, "hosts": ["host-a", "host-b"]}
    again = await host_metrics_dispatch_task(job_ctx("host_metrics_dispatch_task"))
    assert again["enqueued"] == 0  # the first collections are still queued


async def test_api_metrics_stored_as_deltas(
    db: sessionmaker[Session], redis: Redis, job_ctx: Callable[..., JobContext]
) -> None:
    route = "GET /api/v1/jobs"
    await redis.hset(
        API_STATS,
        mapping={
            f"count:{route}": 10,
            f"errors:{route}": 1,
            f"ms:{route}": 250.0,
            "count:POST /api/v1/jobs": 2,
            "ms:POST /api/v1/jobs": 40,
        },
    )
    first = await api_metrics_collect_task(job_ctx("api_metrics_collect_task"))
    assert first == {"routes": 2, "samples": 2}
    await redis.hincrby(API_STATS, f"count:{route}", 5)
    await redis.hincrbyfloat(API_STATS, f"ms:{route}", 50.0)
    second = await api_metrics_collect_task(job_ctx("api_metrics_collect_task"))
    assert second == {"routes": 2, "samples": 1}  # the POST route did not move
    await redis.delete(API_STATS)  # Redis restarted: counters start again
    await redis.hset(API_STATS, mapping={f"count:{route}": 3, f"ms:{route}": 30})
    await api_metrics_collect_task(job_ctx("api_metrics_collect_task"))
    with db() as s:
        rows = s.execute(
            select(ApiMetricSample.requests, ApiMetricSample.errors, ApiMetricSample.avg_ms)
            .where(ApiMetricSample.route == route)
            .order_by(ApiMetricSample.id)
        ).all()
    assert [tuple(r) for r in rows] == [(10, 1, 25.0), (5, 0, 10.0), (3, 0, 10.0)]


async def test_controller_metric_dispatch_then_family_dispatch(
        db: sessionmaker[Session], redis: Redis, resources: Resources, job_ctx: Callable[..., JobContext]) -> None:
    """The controller decides when a metric is due; the family's dispatch task then enqueues the collection."""
    with db.begin() as s:
        s.add_all([MetricSettings(metric="api_metrics", interval_seconds=60),
                   MetricSettings(metric="storage", interval_seconds=300)])
    assert sorted(await MetricDispatcher(resources.sessions, resources.enqueuer).tick()) == ["api_metrics", "storage"]
    assert (await api_metrics_dispatch_task(job_ctx("api_metrics_dispatch_task"))) == {"enqueued": 1}
    storage = await storage_dispatch_task(job_ctx("storage_dispatch_task"))
    assert storage["enqueued"] == ["storage_snapshot_quick_task", "storage_snapshot_deep_task"]
    with db() as s:
        functions = sorted(s.scalars(select(WorkerJobRun.function)))
    assert functions == ["api_metrics_collect_task", "api_metrics_dispatch_task", "storage_dispatch_task",
                         "storage_snapshot_deep_task", "storage_snapshot_quick_task"]
