"""periodic_jobs and config cleanup: retention through the archive, trimming, pending configs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.messages import MessageLog
from core.db.models.platform import HostMetricSample, PendingConfig
from core.db.models.scheduling import ConfigExt
from functions.periodic.jobs import cleanup_config_task, cleanup_pending_configs_task, periodic_jobs
from functions.runner.context import JobContext
from tests.integration.families.conftest import add_logs, add_tenant


def _count(db: sessionmaker[Session], model: type) -> int:
    with db() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


async def test_days_past_retention_are_handed_to_the_archive(
    db: sessionmaker[Session], tenant_id: int, redis: Redis, job_ctx: Callable[..., JobContext]
) -> None:
    now = utcnow()
    add_logs(
        db,
        tenant_id,
        [
            {"log_end": now - timedelta(days=40)},
            {"log_end": now - timedelta(days=40)},
            {"log_end": now - timedelta(days=35)},
            {"log_end": now - timedelta(days=2)},
        ],
    )
    summary = await periodic_jobs(job_ctx("periodic_jobs"))
    assert summary["archive_days_due"] == 2
    assert summary["archives_enqueued"] == 2
    assert _count(db, MessageLog) == 4  # nothing deleted before the archive verified it
    with db() as s:
        runs = s.execute(select(WorkerJobRun.function, WorkerJobRun.args_redacted)).all()
    assert {r.function for r in runs} == {"archive_cpi_day"}
    assert await redis.zcard("arq:queue:archive_data") == 2

    again = await periodic_jobs(job_ctx("periodic_jobs"))
    assert again["archives_enqueued"] == 0  # dedup: the first runs are still queued


async def test_without_archive_old_logs_are_deleted_and_tenant_override_wins(
    db: sessionmaker[Session], job_ctx: Callable[..., JobContext]
) -> None:
    short, long_ = add_tenant(db, "short"), add_tenant(db, "long")
    now = utcnow()
    for tid in (short, long_):
        add_logs(db, tid, [{"log_end": now - timedelta(days=10)}, {"log_end": now}])
    with db.begin() as s:
        s.add_all(
            [
                ConfigExt(key="archive.before_prune", value=False),
                ConfigExt(key="retention.message_log_days", value=5),
                ConfigExt(tenant_id=long_, key="retention.message_log_days", value=60),
            ]
        )
    summary = await periodic_jobs(job_ctx("periodic_jobs"))
    assert summary["logs_deleted"] == 1
    with db() as s:
        left = dict(s.execute(select(MessageLog.tenant_id, func.count()).group_by(MessageLog.tenant_id)).all())
    assert left == {short: 1, long_: 2}


async def test_time_series_trimmed_and_sections_can_be_disabled(
    db: sessionmaker[Session], job_ctx: Callable[..., JobContext]
) -> None:
    sample = {
        "host": "h",
        "cpu_percent": 1.0,
        "memory_percent": 1.0,
        "memory_used_bytes": 1,
        "disk_percent": 1.0,
        "disk_used_bytes": 1,
        "load_1m": 0.0,
        "load_5m": 0.0,
        "load_15m": 0.0,
    }
    with db.begin() as s:
        s.add_all(
            [
                HostMetricSample(taken_at=utcnow() - timedelta(days=31), **sample),
                HostMetricSample(**sample),
                PendingConfig(key="k", value=1, expires_at=utcnow() - timedelta(minutes=1)),
                ConfigExt(key="periodic.disabled", value=["config_cleanup"]),
            ]
        )
    summary = await periodic_jobs(job_ctx("periodic_jobs"))
    assert summary["trimmed"] == {"host_metric_sample": 1}
    assert summary["skipped"] == ["config_cleanup"]
    assert _count(db, HostMetricSample) == 1
    assert _count(db, PendingConfig) == 1


async def test_config_cleanup_tasks(db: sessionmaker[Session], job_ctx: Callable[..., JobContext]) -> None:
    now = utcnow()
    with db.begin() as s:
        s.add_all(
            [
                PendingConfig(key="expired", value=1, expires_at=now - timedelta(seconds=1), applied_at=now),
                PendingConfig(key="live", value=1, expires_at=now + timedelta(hours=1)),
                PendingConfig(key="stale", value=1, created_at=now - timedelta(hours=80)),
                PendingConfig(key="applied-old", value=1, created_at=now - timedelta(hours=80), applied_at=now),
                ConfigExt(key="cleanup.pending_config_max_age_hours", value=48),
            ]
        )
    assert await cleanup_config_task(job_ctx("cleanup_config_task")) == {"deleted": 1}
    assert await cleanup_pending_configs_task(job_ctx("cleanup_pending_configs_task")) == {"deleted": 1}
    with db() as s:
        assert set(s.scalars(select(PendingConfig.key))) == {"live", "applied-old"}
