"""The bottleneck report: per worker group, the queue beside CPI, database and Redis pressure.

Built from what the controller already stores (the newest queue samples, live workers, CPI call rows
and store pressure samples), so the API page and the controller's ``DesiredWorkers`` metric read
one computation over one set of facts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.cpi.metrics_store import CpiPressure, cpi_pressure
from core.db.models.base import utcnow
from core.db.models.controller import QueueSample, WorkerProcess
from core.db.models.pressure import StorePressureSample
from core.db.models.tenants import Tenant
from core.pressure.database import DatabasePressure
from core.pressure.redis_info import RedisPressure
from core.pressure.verdict import (
    THROTTLE_RATIO,
    GroupFacts,
    StoreFacts,
    ThrottledTenant,
    Verdict,
    desired_workers,
    judge,
)
from core.queues.catalog import GROUPS

__all__ = ["CPI_WINDOW", "BottleneckReport", "GroupReport", "bottleneck_report", "store_facts"]

CPI_WINDOW = timedelta(minutes=5)  # CPI answers counted for the verdict
STALE_SAMPLE = timedelta(minutes=2)  # older store samples say nothing about now


@dataclass(frozen=True, slots=True)
class GroupReport:
    facts: GroupFacts
    verdict: Verdict
    desired_workers: int


@dataclass(frozen=True, slots=True)
class BottleneckReport:
    at: datetime
    groups: list[GroupReport]
    stores: StoreFacts
    cpi: list[CpiPressure]
    tenant_names: dict[int, str]


def _latest_depths(session: Session) -> dict[str, tuple[int, int, float | None]]:
    """Per group: ready, running (summed over its queues' newest samples) and the oldest ready age."""
    newest = select(QueueSample.queue, func.max(QueueSample.sampled_at).label("at")).group_by(
        QueueSample.queue).subquery()
    rows = session.execute(select(QueueSample.group_name, QueueSample.ready, QueueSample.running,
                                  QueueSample.oldest_ready_age_s).join(
        newest, (QueueSample.queue == newest.c.queue) & (QueueSample.sampled_at == newest.c.at)))
    out: dict[str, tuple[int, int, float | None]] = {}
    for group, ready, running, age in rows:
        r0, run0, a0 = out.get(group, (0, 0, None))
        oldest = max(a for a in (a0, age) if a is not None) if (a0 is not None or age is not None) else None
        out[group] = (r0 + ready, run0 + running, oldest)
    return out


def _workers(session: Session) -> dict[str, tuple[int, int, int]]:
    """Per group: live workers, their slots and their running jobs."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    rows = session.execute(select(WorkerProcess.group_name, WorkerProcess.concurrency, WorkerProcess.running).where(
        WorkerProcess.status == "live"))
    for group, concurrency, running in rows:
        entry = out[group]
        entry[0] += 1
        entry[1] += int(concurrency or 0)
        entry[2] += len(running or [])
    return {g: (w, s, r) for g, (w, s, r) in out.items()}


def _latest_store(session: Session, store: str, now: datetime) -> dict[str, object] | None:
    row = session.execute(select(StorePressureSample.values).where(
        StorePressureSample.store == store, StorePressureSample.sampled_at > now - STALE_SAMPLE).order_by(
        StorePressureSample.sampled_at.desc()).limit(1)).scalar_one_or_none()
    return dict(row) if row is not None else None


def store_facts(session: Session, now: datetime, cpi: list[CpiPressure], names: dict[int, str]) -> StoreFacts:
    db_values = _latest_store(session, "database", now)
    redis_values = _latest_store(session, "redis", now)
    throttled = tuple(ThrottledTenant(p.tenant_id, names.get(p.tenant_id, str(p.tenant_id)), p.throttle_ratio)
                      for p in cpi if p.requests and p.throttle_ratio >= THROTTLE_RATIO)
    return StoreFacts(
        msgspec.convert(db_values, DatabasePressure) if db_values is not None else None,
        msgspec.convert(redis_values, RedisPressure) if redis_values is not None else None,
        throttled)


def bottleneck_report(session: Session, *, backlog_per_slot: float, max_workers: int = 100,
                      now: datetime | None = None) -> BottleneckReport:
    now = now or utcnow()
    cpi = cpi_pressure(session, now - CPI_WINDOW, now)
    names: dict[int, str] = {}
    if cpi:
        rows = session.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_({p.tenant_id for p in cpi})))
        names = {tid: name for tid, name in rows}
    stores = store_facts(session, now, cpi, names)
    depths = _latest_depths(session)
    workers = _workers(session)
    reports = []
    for group in GROUPS:
        ready, running_q, age = depths.get(group, (0, 0, None))
        live, slots, running_w = workers.get(group, (0, 0, 0))
        facts = GroupFacts(group, ready, age, max(running_q, running_w), slots, live)
        verdict = judge(facts, stores)
        per_worker = slots / live if live else GROUPS[group].concurrency  # no worker yet: the catalog's slots
        desired = desired_workers(facts, verdict, ready_per_worker=per_worker * backlog_per_slot, maximum=max_workers)
        reports.append(GroupReport(facts, verdict, desired))
    return BottleneckReport(now, reports, stores, cpi, names)
