"""Enqueue catalogued functions: one ledger row per job, then the arq job, then a wake-up.

Order matters for "nothing lost": the ledger row is committed first, so a job can never run
without a row; if Redis then fails the rows are marked failed at once, and a crash between the two
steps leaves a ``queued`` row that reconciliation turns into ``skipped`` after the stale timeout.

On PostgreSQL the rows go in through :class:`core.queues.pg_ledger.PgLedgerWriter` (one autocommit
``unnest`` statement on a psycopg async pool, no thread hop, no SQLAlchemy: the INSERT is most of a
single enqueue's cost, and pickup latency counts from the start of the call); SQLite keeps the ORM
insert, imported only when used, so a PostgreSQL process does not load SQLAlchemy to enqueue.

Jobs are written in arq's own format (``arq:job:<id>`` + the queue's sorted set) by one call of the
kernel's ``lua/enqueue.lua`` per batch (per chunk of PIPELINE_CHUNK jobs), so arq's ``Job`` API reads
them and bulk enqueue costs one round trip per chunk.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.errors import CatalogError, ServiceUnavailable
from core.ledger.redaction import redact
from core.ledger.states import RunStatus
from core.queues.catalog import FunctionSpec, queue
from core.queues.keys import job_key, queue_key, result_key, wake_channel
from core.queues.scripts import Lua, script
from core.queues.serialization import check_arguments, encode_job, seal_arguments

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from core.queues.pg_ledger import PgLedgerWriter

__all__ = ["EnqueueRequest", "Enqueuer", "serialize_job"]

EXPIRES_EXTRA_MS = 86_400_000  # arq's default: a job not started within a day of its score expires
PIPELINE_CHUNK = 2500  # jobs per ledger transaction + Redis call in a big batch
PARALLEL_INSERTS = 2  # ledger transactions in flight at once for a big batch

def serialize_job(function: str, kwargs: dict[str, Any], enqueue_time_ms: int, job_try: int | None = None) -> bytes:
    """arq's job layout (f/a/k/t/et) in our versioned JSON (core.queues.serialization), never pickle."""
    return encode_job({"t": job_try, "f": function, "a": (), "k": kwargs, "et": enqueue_time_ms})


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


_Job = tuple[EnqueueRequest, str]  # a request and its (given or generated) job id


class Enqueuer:
    """Writes ledger rows and arq jobs. Shared by the CLI, controller, admin API and job functions.

    A PostgreSQL ``database_url`` (with its password) selects the direct path; without it the rows
    go through ``session_factory`` (SQLite, or a caller that passes no URL). Call :meth:`aclose` on
    shutdown: it closes the PostgreSQL pool.
    """

    def __init__(self, redis: Redis, session_factory: sessionmaker[Session],
                 sealer: Callable[[bytes], str] | None = None, *, database_url: str | None = None) -> None:
        self._redis = redis
        self._sessions = session_factory
        self._seal = sealer
        self._script = script(redis, Lua.ENQUEUE)
        self._pg: PgLedgerWriter | None = None
        if database_url is not None and database_url.split("://", 1)[0].split("+")[0] in ("postgresql", "postgres"):
            from core.queues.pg_ledger import PgLedgerWriter, libpq_dsn

            self._pg = PgLedgerWriter(libpq_dsn(database_url))

    async def aclose(self) -> None:
        """Close the PostgreSQL pool (a no-op on the ORM path)."""
        if self._pg is not None:
            await self._pg.close()

    async def enqueue(self, spec: FunctionSpec, kwargs: dict[str, Any] | None = None, **options: Any) -> str | None:
        """Enqueue one job; returns its job id, or None when a dedup key / job id is already active."""
        ids = await self.enqueue_many([EnqueueRequest(spec, kwargs or {}, **options)])
        return ids[0] if ids else None

    async def enqueue_many(self, requests: Sequence[EnqueueRequest]) -> list[str]:
        """Enqueue a batch; returns the ids actually enqueued (in request order).

        Up to PIPELINE_CHUNK jobs go in one transaction and one Redis call. Bigger batches are cut
        into chunks and pipelined: ledger rows of later chunks are written (two transactions at a
        time when no job id or dedup key repeats in the batch, so they cannot deadlock) while earlier
        chunks are pushed to Redis, so a 25,000-job dispatch costs about the database time instead of
        database + Redis. Each job still reaches Redis only after its ledger row is committed.
        """
        if not requests:
            return []
        for spec in {id(req.spec): req.spec for req in requests}.values():
            if not isinstance(spec, FunctionSpec):
                raise CatalogError("enqueue takes a catalog FunctionSpec, not a bare name")
            queue(spec.queue)
        for req in requests:  # refused before any ledger row is written (PayloadError names the argument)
            check_arguments(req.kwargs)
        now_ms = int(time.time() * 1000)
        now = datetime.now(UTC)
        jobs = [(req, req.job_id or os.urandom(16).hex()) for req in requests]  # uuid4().hex, 3x cheaper
        if len(jobs) <= PIPELINE_CHUNK:  # the common case: no tasks, no semaphore, just the two writes
            return await self._push_inserted(jobs, await self._insert(jobs, now), now_ms)
        chunks = [jobs[i:i + PIPELINE_CHUNK] for i in range(0, len(jobs), PIPELINE_CHUNK)]
        gate = asyncio.Semaphore(PARALLEL_INSERTS if len(chunks) > 1 and _all_keys_unique(requests) else 1)
        inserts = [asyncio.ensure_future(self._insert_chunk(gate, chunk, now)) for chunk in chunks]
        enqueued: list[str] = []
        try:
            for chunk, insert_task in zip(chunks, inserts, strict=True):
                enqueued += await self._push_inserted(chunk, await insert_task, now_ms)
        except ServiceUnavailable as exc:
            # rows of later chunks are (being) written but will not run: fail them right away
            later = await asyncio.gather(*inserts, return_exceptions=True)
            pushed = set(enqueued)
            orphans = sorted(j for ids in later if isinstance(ids, set) for j in ids if j not in pushed)
            if orphans:
                await self._mark_unqueued(orphans, str(exc.__cause__ or exc))
            raise
        return enqueued

    async def _insert_chunk(self, gate: asyncio.Semaphore, chunk: list[_Job], now: datetime) -> set[str]:
        async with gate:
            return await self._insert(chunk, now)

    async def _insert(self, chunk: list[_Job], now: datetime) -> set[str]:
        """Commit the chunk's ledger rows; returns the job ids actually inserted (the others are held)."""
        if self._pg is not None:
            return set(await self._pg.returning(_PG_INSERT, _pg_insert_params(chunk, now, self._seal)))
        return await asyncio.to_thread(self._insert_rows, chunk, now)

    async def _push_inserted(self, chunk: list[_Job], inserted: set[str], now_ms: int) -> list[str]:
        """Push the chunk's newly inserted jobs to Redis; rows whose push failed are marked failed."""
        seen: set[str] = set()
        chosen: list[_Job] = []
        for req, job_id in chunk:  # a job id given twice in one batch is pushed once, for its first request
            if job_id in inserted and job_id not in seen:
                seen.add(job_id)
                chosen.append((req, job_id))
        if not chosen:
            return []
        try:
            added = await self._push(chosen, now_ms)
        except RedisError as exc:
            await self._mark_unqueued([job_id for _, job_id in chosen], str(exc))
            raise ServiceUnavailable(f"Redis unavailable, jobs not enqueued: {exc}") from exc
        missing = [job_id for _, job_id in chosen if job_id not in added]
        if missing:
            await self._mark_unqueued(missing, "a job with this id already exists in Redis")
        return [job_id for _, job_id in chosen if job_id in added]

    def _row(self, req: EnqueueRequest, job_id: str, now: datetime) -> dict[str, Any]:
        redacted, sealed = _ledger_arguments(req.kwargs, self._seal)
        return {
            "arq_job_id": job_id,
            "queue": req.spec.queue,
            "function": req.spec.name,
            "tenant_id": req.tenant_id,
            "args_redacted": redacted,
            "args_sealed": sealed,
            "dedup_key": req.dedup_key,
            "status": RunStatus.QUEUED.value,
            "attempt": 0,
            "max_attempts": req.spec.retry.max_attempts,
            "enqueued_at": now,
            "updated_at": now,
            "replay_of_id": req.replay_of_id,
        }

    def _insert_rows(self, chunk: list[_Job], now: datetime) -> set[str]:
        """The ORM path (in a thread): the chunk's ledger rows in one transaction; returns the ids inserted."""
        from sqlalchemy import insert
        from sqlalchemy.dialects import sqlite

        from core.db.models.ledger import WorkerJobRun

        with self._sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            if dialect == "postgresql":  # the same statement as the direct path, through the session
                params = _pg_insert_params(chunk, now, self._seal)
                return set(session.connection().exec_driver_sql(_PG_INSERT, params).scalars().all())
            # SQLite (the only other supported database)
            stmt: Any = sqlite.insert(WorkerJobRun).on_conflict_do_nothing() if dialect == "sqlite" \
                else insert(WorkerJobRun)
            rows = [self._row(req, job_id, now) for req, job_id in chunk]
            result = session.execute(stmt.returning(WorkerJobRun.arq_job_id), rows)
            return set(result.scalars().all())

    async def _push(self, chosen: list[_Job], now_ms: int) -> set[str]:
        """Write the jobs in arq's layout with one script call; returns the ids actually added."""
        by_queue: dict[str, list[tuple[bytes, int, bytes]]] = defaultdict(list)
        for req, job_id in chosen:
            by_queue[req.spec.queue].append((job_id.encode(), now_ms + int(req.defer_s * 1000),
                                             serialize_job(req.spec.name, req.kwargs, now_ms)))
        channels = sorted(wake_channel(name) for name in by_queue)
        argv: list[Any] = [now_ms, EXPIRES_EXTRA_MS, len(channels), *channels]
        keys: list[str] = [queue_key(name) for name in by_queue]
        for jobs in by_queue.values():
            argv += [b"".join(j[0] for j in jobs), ",".join(str(len(j[0])) for j in jobs),
                     ",".join(str(j[1]) for j in jobs),
                     b"".join(j[2] for j in jobs), ",".join(str(len(j[2])) for j in jobs)]
            for jid, _score, _payload in jobs:
                text_id = jid.decode()
                keys += [job_key(text_id), result_key(text_id)]
        rejected = {r.decode() if isinstance(r, bytes) else str(r) for r in await self._script(keys=keys, args=argv)}
        return {job_id for _, job_id in chosen if job_id not in rejected}

    async def _mark_unqueued(self, job_ids: list[str], reason: str) -> None:
        """Rows whose jobs never reached Redis are failed at once (they will not run)."""
        if self._pg is not None:
            await self._pg.execute(_PG_MARK_UNQUEUED, {"status": RunStatus.FAILED.value, "reason": reason,
                                                       "now": datetime.now(UTC), "ids": job_ids})
        else:
            await asyncio.to_thread(self._mark_unqueued_orm, job_ids, reason)

    def _mark_unqueued_orm(self, job_ids: list[str], reason: str) -> None:
        from sqlalchemy import update

        from core.db.models.ledger import WorkerJobRun

        now = datetime.now(UTC)
        with self._sessions() as session, session.begin():
            session.execute(
                update(WorkerJobRun)
                .where(WorkerJobRun.arq_job_id.in_(job_ids))
                .values(status=RunStatus.FAILED.value, error_type="EnqueueFailed", error_message=reason,
                        finished_at=now, updated_at=now)
            )


@functools.lru_cache(maxsize=1024)
def _is_secret_name(name: str) -> bool:
    return bool(redact({name: 0}) == {name: "***"})


def _redacted(kwargs: dict[str, Any]) -> Any:
    """redact(), with a fast path for the common flat dict of numbers (25,000 polling jobs a tick)."""
    if all(isinstance(k, str) and (v is None or type(v) in (int, float, bool)) for k, v in kwargs.items()) \
            and len(kwargs) <= 50:
        return {k: "***" if _is_secret_name(k) else v for k, v in kwargs.items()}
    return redact(kwargs)


def _ledger_arguments(kwargs: dict[str, Any], seal: Callable[[bytes], str] | None) -> tuple[Any, str | None]:
    """The redacted copy shown in the console, and what the ledger keeps so a run can be replayed
    after Redis forgot it: None when the redacted copy is already exact (the common case, and free),
    else the kwargs encrypted."""
    redacted = _redacted(kwargs)
    if redacted == kwargs:
        return redacted, None
    return redacted, (seal(seal_arguments(kwargs)) if seal is not None else None)


def _all_keys_unique(requests: Sequence[EnqueueRequest]) -> bool:
    """No given job id and no dedup key appears twice (concurrent chunk inserts are then deadlock-free)."""
    ids = [r.job_id for r in requests if r.job_id is not None]
    keys = [r.dedup_key for r in requests if r.dedup_key is not None]
    return len(set(ids)) == len(ids) and len(set(keys)) == len(keys)


# One statement for a whole chunk on PostgreSQL: the columns travel as arrays and are unnested
# server-side, which avoids compiling (and sending) a multi-row VALUES list with ~10 binds per job.
# Built once from one column list: (column, its value in the SELECT: an unnest array with its type
# and alias, or a constant parameter). Execution (pool or session) is the callers' business.
_PG_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    # column, array parameter / constant expression, array element type (None: a constant)
    ("arq_job_id", "ids", "varchar"),
    ("queue", "queues", "varchar"),
    ("function", "functions", "varchar"),
    ("tenant_id", "tenants", "integer"),
    ("args_redacted", "args", "text"),
    ("args_sealed", "sealed", "text"),
    ("dedup_key", "dedup", "varchar"),
    ("status", "%(status)s", None),
    ("attempt", "0", None),
    ("max_attempts", "max_attempts", "integer"),
    ("enqueued_at", "%(now)s", None),
    ("updated_at", "%(now)s", None),
    ("replay_of_id", "replays", "bigint"),
)
_PG_CASTS = {"args": "::jsonb"}  # text arrays whose elements the column stores as another type


def _pg_insert_statement() -> str:
    arrays = [(col, param, kind) for col, param, kind in _PG_COLUMNS if kind is not None]
    select = [f"u.{param}{_PG_CASTS.get(param, '')}" if kind is not None else param for _, param, kind in _PG_COLUMNS]
    return (f"INSERT INTO worker_job_run ({', '.join(col for col, _, _ in _PG_COLUMNS)})\n"
            f"SELECT {', '.join(select)}\n"
            f"FROM unnest({', '.join(f'CAST(%({param})s AS {kind}[])' for _, param, kind in arrays)})\n"
            f"     AS u({', '.join(param for _, param, _ in arrays)})\n"
            "ON CONFLICT DO NOTHING\nRETURNING arq_job_id")


_PG_INSERT = _pg_insert_statement()

_PG_MARK_UNQUEUED = """
UPDATE worker_job_run SET status = %(status)s, error_type = 'EnqueueFailed', error_message = %(reason)s,
                          finished_at = %(now)s, updated_at = %(now)s
WHERE arq_job_id = ANY(%(ids)s)
"""


def _pg_insert_params(chunk: list[_Job], now: datetime, seal: Callable[[bytes], str] | None) -> dict[str, Any]:
    """The parameters of ``_PG_INSERT`` for a chunk, straight from the requests."""
    args: list[str] = []
    sealed_args: list[str | None] = []
    for req, _ in chunk:
        redacted, sealed = _ledger_arguments(req.kwargs, seal)
        args.append(json.dumps(redacted))
        sealed_args.append(sealed)
    return {
        "status": RunStatus.QUEUED.value,
        "now": now,
        "ids": [job_id for _, job_id in chunk],
        "queues": [req.spec.queue for req, _ in chunk],
        "functions": [req.spec.name for req, _ in chunk],
        "tenants": [req.tenant_id for req, _ in chunk],
        "args": args,
        "sealed": sealed_args,
        "dedup": [req.dedup_key for req, _ in chunk],
        "max_attempts": [req.spec.retry.max_attempts for req, _ in chunk],
        "replays": [req.replay_of_id for req, _ in chunk],
    }
