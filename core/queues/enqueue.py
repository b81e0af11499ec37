"""Enqueue catalogued functions: one ledger row per job, then the arq job, then a wake-up.

Order matters for "nothing lost": the ledger row is committed first, so a job can never run
without a row; if Redis then fails the rows are marked failed at once, and a crash between the two
steps leaves a ``queued`` row that reconciliation turns into ``skipped`` after the stale timeout.

Jobs are written in arq's own format (``arq:job:<id>`` + the queue's sorted set) by one Lua call per
batch, so arq's ``Job`` API reads them and bulk enqueue costs one round trip.
"""

from __future__ import annotations

import asyncio
import pickle
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.errors import CatalogError, ServiceUnavailable
from core.ledger.redaction import redact
from core.ledger.states import RunStatus
from core.queues.catalog import FunctionSpec, queue
from core.queues.keys import wake_channel

__all__ = ["EnqueueRequest", "Enqueuer", "serialize_job"]

EXPIRES_EXTRA_MS = 86_400_000  # arq's default: a job not started within a day of its score expires

_ENQUEUE_LUA = """
local now = tonumber(ARGV[1])
local extra = tonumber(ARGV[2])
local nch = tonumber(ARGV[3])
local added = {}
local i = 4 + nch
while i <= #ARGV do
  local qkey, id, score, payload = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  if redis.call('EXISTS', 'arq:job:' .. id, 'arq:result:' .. id) == 0 then
    redis.call('PSETEX', 'arq:job:' .. id, extra + math.max(score - now, 0), payload)
    redis.call('ZADD', qkey, score, id)
    added[#added + 1] = id
  end
  i = i + 4
end
if #added > 0 then
  for c = 4, 3 + nch do redis.call('PUBLISH', ARGV[c], #added) end
end
return added
"""


def serialize_job(function: str, kwargs: dict[str, Any], enqueue_time_ms: int, job_try: int | None = None) -> bytes:
    """arq's job encoding (pickle of f/a/k/t/et), so arq's tools can read our jobs."""
    return pickle.dumps({"t": job_try, "f": function, "a": (), "k": kwargs, "et": enqueue_time_ms})


@dataclass(frozen=True, slots=True)
class EnqueueRequest:
    """One job to enqueue: a catalogued function and its keyword arguments."""

    spec: FunctionSpec
    kwargs: dict[str, Any] = field(default_factory=dict)
    tenant_id: int | None = None
    dedup_key: str | None = None
    job_id: str | None = None
    defer_s: float = 0.0
    replay_of_id: int | None = None


class Enqueuer:
    """Writes ledger rows and arq jobs. Shared by the CLI, controller, admin API and job functions."""

    def __init__(self, redis: Redis, session_factory: sessionmaker[Session]) -> None:
        self._redis = redis
        self._sessions = session_factory
        self._script = redis.register_script(_ENQUEUE_LUA)

    async def enqueue(self, spec: FunctionSpec, kwargs: dict[str, Any] | None = None, **options: Any) -> str | None:
        """Enqueue one job; returns its job id, or None when a dedup key / job id is already active."""
        ids = await self.enqueue_many([EnqueueRequest(spec, kwargs or {}, **options)])
        return ids[0] if ids else None

    async def enqueue_many(self, requests: Sequence[EnqueueRequest]) -> list[str]:
        """Enqueue a batch in one transaction and one Redis call; returns the ids actually enqueued."""
        if not requests:
            return []
        for req in requests:
            if not isinstance(req.spec, FunctionSpec):
                raise CatalogError("enqueue takes a catalog FunctionSpec, not a bare name")
            queue(req.spec.queue)
        now_ms = int(time.time() * 1000)
        rows = [self._row(req) for req in requests]
        inserted = await asyncio.to_thread(self._insert_rows, rows)
        if not inserted:
            return []
        chosen = [(req, row) for req, row in zip(requests, rows, strict=True) if row["arq_job_id"] in inserted]
        try:
            added = await self._push(chosen, now_ms)
        except RedisError as exc:
            await asyncio.to_thread(self._mark_unqueued, [row["arq_job_id"] for _, row in chosen], str(exc))
            raise ServiceUnavailable(f"Redis unavailable, jobs not enqueued: {exc}") from exc
        missing = [row["arq_job_id"] for _, row in chosen if row["arq_job_id"] not in added]
        if missing:
            await asyncio.to_thread(self._mark_unqueued, missing, "a job with this id already exists in Redis")
        return [jid for jid in (row["arq_job_id"] for _, row in chosen) if jid in added]

    @staticmethod
    def _row(req: EnqueueRequest) -> dict[str, Any]:
        return {
            "arq_job_id": req.job_id or uuid.uuid4().hex,
            "queue": req.spec.queue,
            "function": req.spec.name,
            "tenant_id": req.tenant_id,
            "args_redacted": redact(req.kwargs),
            "dedup_key": req.dedup_key,
            "status": RunStatus.QUEUED.value,
            "attempt": 0,
            "max_attempts": req.spec.retry.max_attempts,
            "enqueued_at": utcnow(),
            "updated_at": utcnow(),
            "replay_of_id": req.replay_of_id,
        }

    def _insert_rows(self, rows: list[dict[str, Any]]) -> set[str]:
        with self._sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            stmt: Any
            if dialect == "postgresql":
                stmt = postgresql.insert(WorkerJobRun).on_conflict_do_nothing()
            elif dialect == "sqlite":
                stmt = sqlite.insert(WorkerJobRun).on_conflict_do_nothing()
            else:  # pragma: no cover - only PostgreSQL and SQLite are supported
                stmt = insert(WorkerJobRun)
            result = session.execute(stmt.returning(WorkerJobRun.arq_job_id), rows)
            return set(result.scalars().all())

    async def _push(self, chosen: list[tuple[EnqueueRequest, dict[str, Any]]], now_ms: int) -> set[str]:
        channels = sorted({wake_channel(req.spec.queue) for req, _ in chosen})
        argv: list[Any] = [now_ms, EXPIRES_EXTRA_MS, len(channels), *channels]
        for req, row in chosen:
            score = now_ms + int(req.defer_s * 1000)
            argv += [queue(req.spec.queue).redis_key, row["arq_job_id"], score,
                     serialize_job(req.spec.name, req.kwargs, now_ms)]
        added = await self._script(args=argv)
        return {a.decode() if isinstance(a, bytes) else str(a) for a in added}

    def _mark_unqueued(self, job_ids: list[str], reason: str) -> None:
        with self._sessions() as session, session.begin():
            session.execute(
                update(WorkerJobRun)
                .where(WorkerJobRun.arq_job_id.in_(job_ids))
                .values(status=RunStatus.FAILED.value, error_type="EnqueueFailed", error_message=reason,
                        finished_at=utcnow(), updated_at=utcnow())
            )
