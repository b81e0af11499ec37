"""Tenant poll dispatch: for every active tenant and polling kind, enqueue the polling job when due.

Due = the kind's interval (``config_ext`` key ``poll.<kind>.interval_s``, tenant row over global row
over the default) has passed since the last enqueue, which the controller keeps in the Redis hash
CONTROLLER_POLL_STATE (one field per tenant, a JSON object kind -> Unix time: 5,000 tenants cost one
HGETALL and one HSET per tick). Two guards keep work single: ``dedup_key`` ``poll:<tenant>:<kind>``
(the ledger allows one unfinished run per key, so a job still queued or running is never enqueued
again) and a job id derived from the due slot, so a controller that crashed after enqueueing but
before recording it computes the same id again and the ledger's unique job id refuses the
duplicate. Losing the hash (a Redis flush) only makes every pair due once more.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.config_keys import ConfigValueError, config_key, validate_value
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.scheduling import ConfigExt
from core.db.models.tenants import Tenant
from core.queues.catalog import (
    DEEP_SYNC_IFLOW_ARTIFACTS,
    READ_MESSAGE_LOGS,
    READ_MESSAGE_LOGS_COLD,
    READ_PACKAGES,
    READ_PAYLOADS,
    SETTLE_MESSAGE_LOGS,
    FunctionSpec,
)
from core.queues.enqueue import Enqueuer, EnqueueRequest
from core.queues.keys import CONTROLLER_POLL_STATE

__all__ = ["DEFAULT_INTERVALS", "POLL_FUNCTIONS", "POLL_SPECS", "DispatchResult", "PollDispatcher", "resolve_intervals"]

log = logging.getLogger(__name__)

POLL_SPECS: Mapping[str, FunctionSpec] = MappingProxyType({
    "hot": READ_MESSAGE_LOGS,
    "cold": READ_MESSAGE_LOGS_COLD,
    "payloads": READ_PAYLOADS,
    "packages": READ_PACKAGES,
    "deep_sync": DEEP_SYNC_IFLOW_ARTIFACTS,
    "settle": SETTLE_MESSAGE_LOGS,  # re-reads recent history for late-arriving logs (docs/ingestion.md)
})
POLL_FUNCTIONS: Mapping[str, str] = MappingProxyType({kind: spec.name for kind, spec in POLL_SPECS.items()})
DEFAULT_INTERVALS: Mapping[str, float] = MappingProxyType(
    {kind: float(config_key(f"poll.{kind}.interval_s").default) for kind in POLL_FUNCTIONS})


class _Due(NamedTuple):
    """A due (tenant, kind); a tuple because a cold-start tick makes 25,000 of them."""

    tenant_id: int
    kind: str
    job_id: str  # poll:<tenant>:<kind>:<Unix seconds of the due slot>


def _due(tenant_id: int, kind: str, slot: float) -> _Due:
    return _Due(tenant_id, kind, f"poll:{tenant_id}:{kind}:{int(slot)}")


@dataclass(frozen=True, slots=True)
class DispatchResult:
    due: int
    enqueued: int


def _interval_value(key: str, raw: Any) -> float | None:
    """A config value as seconds (0 disables the kind); a value its registry entry refuses falls back to the default."""
    try:
        return float(validate_value(config_key(key), raw))
    except ConfigValueError as exc:
        log.warning("config_ext %s=%r ignored (%s); using the default", key, raw, exc)
        return None


def resolve_intervals(rows: list[tuple[int | None, str, Any]]) -> tuple[dict[str, float], dict[tuple[int, str], float]]:
    """Global intervals (defaults overlaid with tenant-less rows) and per-tenant overrides."""
    global_ = dict(DEFAULT_INTERVALS)
    per_tenant: dict[tuple[int, str], float] = {}
    for tenant_id, key, raw in rows:
        kind = key.removeprefix("poll.").removesuffix(".interval_s")
        if kind not in POLL_FUNCTIONS:
            continue
        value = _interval_value(key, raw)
        if value is None:
            continue
        if tenant_id is None:
            global_[kind] = value
        else:
            per_tenant[(tenant_id, kind)] = value
    return global_, per_tenant


class PollDispatcher:
    """One ``tick`` = find every due (tenant, kind) and enqueue them in one batch."""

    def __init__(self, sessions: sessionmaker[Session], redis: Redis, enqueuer: Enqueuer) -> None:
        self._sessions = sessions
        self._redis = redis
        self._enqueuer = enqueuer
        self._specs = dict(POLL_SPECS)

    async def tick(self, now: datetime | None = None) -> DispatchResult:
        now = now or utcnow()
        last = await self._last_enqueued()
        due = await asyncio.to_thread(self._plan, now, last)
        if not due:
            return DispatchResult(0, 0)
        requests = [EnqueueRequest(self._specs[d.kind], {"tenant_id": d.tenant_id}, tenant_id=d.tenant_id,
                                   dedup_key=f"poll:{d.tenant_id}:{d.kind}", job_id=d.job_id) for d in due]
        enqueued = set(await self._enqueuer.enqueue_many(requests))
        done = await asyncio.to_thread(self._already_enqueued, [d.job_id for d in due if d.job_id not in enqueued])
        now_s = now.timestamp()
        changed: dict[int, dict[str, float]] = {}
        for d in due:
            if d.job_id in enqueued or d.job_id in done:
                record = changed.setdefault(d.tenant_id, dict(last.get(d.tenant_id, {})))
                record[d.kind] = now_s if d.job_id in enqueued else done[d.job_id]
        if changed:
            await self._redis.hset(CONTROLLER_POLL_STATE,
                                   mapping={str(t): json.dumps(record) for t, record in changed.items()})
        return DispatchResult(len(due), len(enqueued))

    async def _last_enqueued(self) -> dict[int, dict[str, float]]:
        """Per tenant: kind -> Unix time of the last enqueue (one hash field per tenant)."""
        raw: dict[Any, Any] = await self._redis.hgetall(CONTROLLER_POLL_STATE)
        return {int(tenant): json.loads(record) for tenant, record in raw.items()}

    def _plan(self, now: datetime, last: dict[int, dict[str, float]]) -> list[_Due]:
        with self._sessions() as session:
            tenants = session.execute(select(Tenant.id).where(Tenant.active.is_(True))).scalars().all()
            config = session.execute(select(ConfigExt.tenant_id, ConfigExt.key, ConfigExt.value)
                                     .where(ConfigExt.key.like("poll.%.interval_s"))).all()
        global_, per_tenant = resolve_intervals([(t, k, v) for t, k, v in config])
        now_s = now.timestamp()
        due: list[_Due] = []
        for tenant_id in tenants:
            record = last.get(tenant_id, {})
            for kind in POLL_FUNCTIONS:
                interval = per_tenant.get((tenant_id, kind), global_[kind]) if per_tenant else global_[kind]
                if interval <= 0:
                    continue
                previous = record.get(kind)
                if previous is None:
                    due.append(_due(tenant_id, kind, math.floor(now_s / interval) * interval))
                elif previous + interval <= now_s:
                    due.append(_due(tenant_id, kind, previous + interval))
        return due

    def _already_enqueued(self, job_ids: list[str]) -> dict[str, float]:
        """Due slots whose job id is already in the ledger (enqueued before a crash): when, per id."""
        found: dict[str, float] = {}
        if not job_ids:
            return found
        with self._sessions() as session:
            for start in range(0, len(job_ids), 5000):
                rows = session.execute(select(WorkerJobRun.arq_job_id, WorkerJobRun.enqueued_at)
                                       .where(WorkerJobRun.arq_job_id.in_(job_ids[start:start + 5000])))
                found.update({job_id: at.timestamp() for job_id, at in rows})
        return found
