"""``periodic_jobs`` and the config cleanup tasks (all on ``periodic_run``).

``periodic_jobs`` runs every periodic configuration section unless listed in ``periodic.disabled``:
``retention`` (message logs via the archive, time series, history), ``config_cleanup`` (expired
pending configs) and ``pending_config_cleanup`` (never-applied pending configs past their max age).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.config_keys import read_config
from core.queues.catalog import (
    ARCHIVE_CPI_DAY,
    CLEANUP_CONFIG_TASK,
    CLEANUP_PENDING_CONFIGS_TASK,
    PERIODIC_JOBS,
)
from core.queues.enqueue import EnqueueRequest
from functions.periodic.cleanup import delete_expired_configs, delete_stale_pending_configs
from functions.periodic.retention import RetentionPlan, plan_message_retention, trim_history
from functions.registry import JobFunction, implemented_in, implements
from functions.runner.context import JobContext

__all__ = ["JOBS", "cleanup_config_task", "cleanup_pending_configs_task", "periodic_jobs"]

SECTIONS = ("retention", "config_cleanup", "pending_config_cleanup")


def _disabled(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        value = read_config(session, "periodic.disabled")
    return {str(v) for v in value} if isinstance(value, list) else set()


def _retention(sessions: sessionmaker[Session]) -> tuple[RetentionPlan, dict[str, int]]:
    with sessions.begin() as session:
        plan = plan_message_retention(session)
        trimmed = trim_history(session)
    return plan, trimmed


def _in_transaction(sessions: sessionmaker[Session], work: Callable[[Session], int]) -> int:
    with sessions.begin() as session:
        return int(work(session))


async def _enqueue_archives(ctx: JobContext, plan: RetentionPlan) -> int:
    spec = ARCHIVE_CPI_DAY
    requests = [EnqueueRequest(spec, {"tenant_id": tid, "day": day.isoformat()}, tenant_id=tid,
                               dedup_key=f"archive_cpi_day:{tid}:{day.isoformat()}")
                for tid, day in plan.to_archive]
    return len(await ctx.resources.enqueuer.enqueue_many(requests))


@implements(PERIODIC_JOBS)
async def periodic_jobs(ctx: JobContext) -> dict[str, Any]:
    """Run each enabled section; the summary says what each one did."""
    sessions = ctx.resources.sessions
    disabled = await asyncio.to_thread(_disabled, sessions)
    summary: dict[str, Any] = {"skipped": sorted(disabled & set(SECTIONS))}
    if "retention" not in disabled:
        plan, trimmed = await asyncio.to_thread(_retention, sessions)
        summary["archives_enqueued"] = await _enqueue_archives(ctx, plan)
        summary["archive_days_due"] = len(plan.to_archive)
        summary["logs_deleted"] = plan.deleted_logs
        summary["trimmed"] = {k: v for k, v in trimmed.items() if v}
    if "config_cleanup" not in disabled:
        summary["expired_configs"] = await asyncio.to_thread(_in_transaction, sessions, delete_expired_configs)
    if "pending_config_cleanup" not in disabled:
        summary["stale_pending_configs"] = await asyncio.to_thread(
            _in_transaction, sessions, delete_stale_pending_configs)
    return summary


@implements(CLEANUP_CONFIG_TASK)
async def cleanup_config_task(ctx: JobContext) -> dict[str, int]:
    """Delete pending configs whose expiry has passed."""
    return {"deleted": await asyncio.to_thread(_in_transaction, ctx.resources.sessions, delete_expired_configs)}


@implements(CLEANUP_PENDING_CONFIGS_TASK)
async def cleanup_pending_configs_task(ctx: JobContext) -> dict[str, int]:
    """Delete pending configs never applied within ``cleanup.pending_config_max_age_hours``."""
    deleted = await asyncio.to_thread(_in_transaction, ctx.resources.sessions, delete_stale_pending_configs)
    return {"deleted": deleted}


JOBS: dict[str, JobFunction] = implemented_in(__name__)  # the table, derived from @implements
