"""Batched ledger recording for workers (group commit).

Every attempt start and end goes into an in-memory batch; the flusher writes each batch in ONE
transaction and only then finishes the jobs in Redis. A job therefore never leaves Redis before its
ledger row says how it ended, yet the cost per job is a fraction of a round trip. The worker reuses
a job's slot as soon as its function ends (the ending waits here, the job stays leased), so the
write overlaps the next jobs. When a job ends before its start was flushed, start and end are merged.

Faults: ``run`` is the flusher's body and is restartable. A batch stays in flight until both its
commit and the ``on_committed`` hook (the Redis finish) have succeeded; when either raises, ``run``
raises and the worker's supervisor calls it again after a backoff, which retries the same batch
(the commit only if it did not happen yet), so endings wait out an outage of any length, in order.
The writes are idempotent (terminal rows are never overwritten, an attempt row is inserted once, and only
for a run the ledger knows), so a commit whose acknowledgement was lost does no harm when repeated.

On PostgreSQL a batch is one statement (data-modifying CTEs over one JSON row set) run in autocommit
on the recorder's own async psycopg connection: one round trip per batch whatever its size, no thread hop.

Batching: an ending waits at most ``flush_interval_s`` for others to join it: while ``executing()``
says jobs still run whose endings may join, or (when it says 0) until one interval after the previous
batch was cut, so a quiet worker's ending is written at once and a stream of short jobs is written
about once per interval. When it says -1 (the worker reached its bound on jobs held awaiting the
ledger and claims nothing) the batch is written at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
import psycopg

from core.clock import utcnow
from core.db.session import dialect_of, psycopg_dsn
from core.errors import LedgerError
from core.events.topics import EVENT_TOPICS
from core.ledger.states import NOT_TERMINAL_SQL, AttemptStatus, RunStatus

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["LOST", "AttemptRecord", "LedgerRecorder"]

log = logging.getLogger(__name__)
START_DELAY_S = 0.05  # how long an attempt start may wait for its ending to share one write
LOST = AttemptStatus.LOST.value  # its worker vanished and another worker claimed the run again
_PARAM = re.compile(r"(?<!:):(\w+)")  # SQLAlchemy-style :name -> psycopg's binary %(name)b


@dataclass(slots=True)
class AttemptRecord:
    """One attempt as the worker sees it; ``after`` is handed back once the batch is committed."""

    job_id: str
    attempt: int
    worker_id: str
    started_at: datetime
    run_status: RunStatus = RunStatus.RUNNING
    finished_at: datetime | None = None
    duration_ms: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    result_summary: dict[str, Any] | None = None
    next_attempt_at: datetime | None = None
    event: tuple[str, dict[str, Any]] | None = None
    after: Any = None
    start_written: bool = False
    done: asyncio.Future[None] | None = field(default=None, repr=False)

    @property
    def attempt_status(self) -> str:
        """Status of this attempt row (the run may go on with another attempt)."""
        if self.run_status in (RunStatus.RETRYING, RunStatus.DEAD) and self.error_type == "WorkerShutdown":
            return AttemptStatus.INTERRUPTED.value
        if self.run_status in (RunStatus.RETRYING, RunStatus.DEAD):
            return AttemptStatus.FAILED.value
        return AttemptStatus(self.run_status.value).value


@dataclass(slots=True)
class _Batch:
    starts: list[AttemptRecord]
    ends: list[AttemptRecord]
    committed: bool = False


class LedgerRecorder:
    """Collects attempt records and writes them in batches (see the module docstring)."""

    def __init__(self, database_url: str, flush_interval_s: float,
                 on_committed: Callable[[list[Any]], Awaitable[None]],
                 executing: Callable[[], int] = lambda: -1, *, engine: Callable[[], Engine] | None = None) -> None:
        """``database_url`` decides the write path: on PostgreSQL the recorder opens its own psycopg
        connection (no SQLAlchemy at all); other databases are written through ``engine()``, called on
        the first write, so a worker's ORM engine is only created where it is really used."""
        self._engine = engine
        self._interval = flush_interval_s
        self._on_committed = on_committed
        self._executing = executing
        self._starts: list[AttemptRecord] = []
        self._ends: list[AttemptRecord] = []
        self._batch: _Batch | None = None
        self._dirty = asyncio.Event()
        self._closing = False
        self._busy_since: float | None = None
        self._last_flush = float("-inf")  # loop time the latest batch was cut
        self._set_based = dialect_of(database_url) == "postgresql"
        self._dsn = psycopg_dsn(database_url) if self._set_based else ""
        if not self._set_based and engine is None:
            raise ValueError("a recorder for a database other than PostgreSQL needs an engine")
        self._conn: psycopg.AsyncConnection[Any] | None = None

    def started(self, record: AttemptRecord) -> None:
        """Queue the 'running' write of an attempt (not awaited: the job runs meanwhile)."""
        self._starts.append(record)
        self._dirty.set()

    def finished(self, record: AttemptRecord) -> asyncio.Future[None]:
        """Queue the end of an attempt; the future resolves after commit and the ``after`` hook."""
        record.done = asyncio.get_running_loop().create_future()
        self._ends.append(record)
        self._dirty.set()
        return record.done

    def request_close(self) -> None:
        """Let ``run`` return once everything pending is written."""
        self._closing = True
        self._dirty.set()

    @property
    def pending(self) -> int:
        """Endings not yet committed and finished in Redis."""
        return len(self._ends) + (len(self._batch.ends) if self._batch else 0)

    def busy_for(self) -> float:
        """Seconds the current write (or Redis finish) has been under way; 0 when none is."""
        return 0.0 if self._busy_since is None else time.monotonic() - self._busy_since

    def abandon(self, reason: str) -> int:
        """Give up on every pending ending (shutdown during an outage); returns how many were dropped."""
        ends = [*(self._batch.ends if self._batch else []), *self._ends]
        self._batch, self._starts, self._ends = None, [], []
        error = LedgerError(reason)
        for r in ends:
            if r.done and not r.done.done():
                r.done.set_exception(error)
                r.done.exception()  # retrieved: the job task may already be gone
        return len(ends)

    async def run(self) -> None:
        """The flusher: write batches until closed. Raises on a failed write; call it again to retry."""
        while True:
            if self._batch is None:
                if not self._starts and not self._ends:
                    if self._closing:
                        return
                    self._dirty.clear()
                    await self._dirty.wait()
                    continue
                await self._gather()
                self._last_flush = asyncio.get_running_loop().time()
                self._batch = _Batch(self._starts, self._ends)
                self._starts, self._ends = [], []
            await self._flush(self._batch)
            self._batch = None

    async def _gather(self) -> None:
        """Let more records join the batch. Endings keep their jobs leased (and count toward the
        worker's bound on held jobs), so once one is queued the batch waits at most one flush
        interval: less when ``executing()`` is 0 (no running function whose ending could join), and not
        at all when it is negative (the worker's held bound is reached) or when no batch was cut
        within the last interval (a quiet worker's ending is written at once). In a stream of short
        jobs batches are thus cut at most once per interval: a faster database must not turn into one
        write and one Redis finish per job. Attempt starts hold nothing, so alone they wait up to
        START_DELAY_S for their job's ending to join them (one write per short job instead of two)."""
        loop = asyncio.get_running_loop()
        start_deadline = loop.time() + max(self._interval, START_DELAY_S)
        end_deadline: float | None = None
        while not self._closing:
            if self._ends:
                waiting = self._executing()
                if waiting < 0:
                    return
                if end_deadline is None:
                    end_deadline = loop.time() + self._interval
                deadline = min(end_deadline, self._last_flush + self._interval) if waiting == 0 else end_deadline
            else:
                deadline = start_deadline
            left = deadline - loop.time()
            if left <= 0:
                return
            self._dirty.clear()
            try:
                await asyncio.wait_for(self._dirty.wait(), left)
            except TimeoutError:
                return

    async def _flush(self, batch: _Batch) -> None:
        ended = {id(r) for r in batch.ends}
        fresh_starts = [r for r in batch.starts if id(r) not in ended]
        self._busy_since = time.monotonic()
        try:
            if not batch.committed:
                if self._set_based:
                    await self._write_pg(fresh_starts, batch.ends)
                else:
                    await asyncio.to_thread(self._write, fresh_starts, batch.ends)
                batch.committed = True
                for r in fresh_starts:
                    r.start_written = True
            if batch.ends:
                await self._on_committed([r.after for r in batch.ends])
        finally:
            self._busy_since = None
        for r in batch.ends:
            if r.done and not r.done.done():
                r.done.set_result(None)

    def _write(self, starts: list[AttemptRecord], ends: list[AttemptRecord]) -> None:
        """SQLite: one transaction of executemany steps (run in a thread)."""
        from core.events.outbox import record_events
        from core.ledger.sqlite_writes import write_rows

        assert self._engine is not None  # checked in __init__
        now = utcnow()
        new_attempts = [*starts, *(r for r in ends if not r.start_written)]
        with self._engine().begin() as conn:
            applied = write_rows(conn, starts, new_attempts, ends, now)
            record_events(conn, [r.event for r in ends if r.event and r.job_id in applied])  # as _PG_EVENTS

    async def _write_pg(self, starts: list[AttemptRecord], ends: list[AttemptRecord]) -> None:
        """PostgreSQL: the batch as one statement on the recorder's own async autocommit connection
        (no thread hop, no pool checkout or pre-ping per batch); reconnects after a failure."""
        new_attempts = [*starts, *(r for r in ends if not r.start_written)]
        statement = pg_batch_statement(starts, new_attempts, ends, utcnow())
        if statement is None:
            return
        conn = self._conn
        try:
            if conn is None or conn.closed:
                conn = self._conn = await psycopg.AsyncConnection.connect(self._dsn, autocommit=True,
                                                                          connect_timeout=5)
            await conn.execute(_psycopg_query(statement[0]), statement[1])
        except psycopg.Error as exc:
            self._conn = None
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
            raise LedgerError(f"ledger write failed: {exc}") from exc

    async def release(self) -> None:
        """Close the recorder's connection (at shutdown)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 1.0)


# ---- PostgreSQL: the whole batch is ONE statement (data-modifying CTEs over one JSON row set) ----
# One statement is atomic on its own, so the recorder runs it in autocommit: one round trip per
# batch however many jobs it holds, instead of BEGIN + a statement per step + COMMIT. The records
# travel as ONE JSON document (one row per record, ``k`` says which steps it takes part in) encoded
# by msgspec in C: binding a dozen parallel arrays element by element in Python was the larger
# part of the worker's CPU per job at 100 slots.

_START = 1  # an attempt start not yet written: its run goes 'running'
_NEW_ATTEMPT = 2  # its attempt row is inserted (a start, or an end whose start was never written)
_END = 4  # its run takes the ending
_WRITTEN = 8  # an end whose attempt row exists already: that row takes the ending

# Plans that hold whatever the statistics say. A burst of enqueues (a fresh ledger, a backlog) makes the
# statistics of worker_job_run and worker_job_attempt lag far behind; planned on them, a 10-job batch
# took 17 ms of server time (hash joins over every queued job) instead of 2. So: the row set carries
# a LIMIT of its size rounded up to a power of two (``_rows_limit``; json_to_recordset is otherwise
# always guessed at 100 rows), which makes per-job index lookups the plan for a small batch; the
# run updates name NOT_TERMINAL_SQL, not the partial index's predicate (see core.ledger.states); and
# the attempt-exists test is a per-row index probe (``OFFSET 0`` keeps it a subquery, not a hash
# anti-join over the whole attempt table); and each UPDATE also names its rows by
# ``arq_job_id = ANY(ARRAY(SELECT id FROM u ...))``, an index condition on the unique/indexed column,
# so the rows are found by lookups even where a stale estimate makes a table scan look cheaper.
_PG_ROWS = """
u AS MATERIALIZED (
  SELECT * FROM json_to_recordset(CAST(:rows AS json))
       AS x(k integer, id varchar, attempt integer, worker varchar, started timestamptz, finished timestamptz,
            duration integer, rstatus varchar, astatus varchar, etype varchar, emsg text, result jsonb,
            next timestamptz)
  LIMIT {limit})"""
_PG_START_RUNS = f"""
start_runs AS (
  UPDATE worker_job_run AS r
  SET status = 'running', attempt = u.attempt, started_at = u.started, worker_id = u.worker,
      updated_at = :now, next_attempt_at = NULL
  FROM u WHERE u.k & {_START} <> 0 AND r.arq_job_id = u.id AND r.{NOT_TERMINAL_SQL}
    AND r.arq_job_id = ANY(ARRAY(SELECT id FROM u WHERE k & {_START} <> 0)) RETURNING 1)"""
# A new attempt of a run whose earlier attempt is still 'running' means that attempt's worker is gone
# (its lease expired and the job was claimed again): say so instead of leaving it 'running' forever.
_PG_MARK_LOST = f"""
lost AS (
  UPDATE worker_job_attempt AS a
  SET status = '{LOST}', finished_at = :now, error_type = 'WorkerLost',
      error_message = 'the worker of this attempt stopped; the job was claimed again'
  FROM u WHERE u.k & {_NEW_ATTEMPT} <> 0 AND u.attempt > 1
    AND a.arq_job_id = u.id AND a.attempt < u.attempt AND a.status = 'running'
    AND a.arq_job_id = ANY(ARRAY(SELECT id FROM u WHERE k & {_NEW_ATTEMPT} <> 0 AND attempt > 1)) RETURNING 1)"""
# Inserted once per (job, attempt), and only for jobs the ledger knows (a repeated commit is harmless).
_PG_INSERT_ATTEMPTS = f"""
new_attempts AS (
  INSERT INTO worker_job_attempt (arq_job_id, attempt, worker_id, status, started_at, finished_at, duration_ms,
                                  error_type, error_message)
  SELECT u.id, u.attempt, u.worker, u.astatus, u.started, u.finished, u.duration, u.etype, u.emsg
  FROM u
  WHERE u.k & {_NEW_ATTEMPT} <> 0
    AND EXISTS (SELECT 1 FROM worker_job_run r WHERE r.arq_job_id = u.id)
    AND NOT EXISTS (SELECT 1 FROM worker_job_attempt a WHERE a.arq_job_id = u.id AND a.attempt = u.attempt
                    OFFSET 0)
  RETURNING 1)"""
_PG_END_RUNS = f"""
end_runs AS (
  UPDATE worker_job_run AS r
  SET status = u.rstatus, attempt = u.attempt, started_at = u.started, worker_id = u.worker,
      finished_at = u.finished, duration_ms = u.duration, error_type = u.etype, error_message = u.emsg,
      result_summary = u.result, next_attempt_at = u.next, updated_at = :now
  FROM u WHERE u.k & {_END} <> 0 AND r.arq_job_id = u.id AND r.{NOT_TERMINAL_SQL}
    AND r.arq_job_id = ANY(ARRAY(SELECT id FROM u WHERE k & {_END} <> 0)) RETURNING r.arq_job_id)"""
_PG_END_ATTEMPTS = f"""
end_attempts AS (
  UPDATE worker_job_attempt AS a
  SET status = u.astatus, finished_at = u.finished, duration_ms = u.duration, error_type = u.etype,
      error_message = u.emsg
  FROM u WHERE u.k & {_WRITTEN} <> 0 AND a.arq_job_id = u.id AND a.attempt = u.attempt
    AND a.arq_job_id = ANY(ARRAY(SELECT id FROM u WHERE k & {_WRITTEN} <> 0)) RETURNING 1)"""
# An ending's event goes out only with the ending itself: for a run this statement took out of an active
# status (end_runs). A batch committed twice (its acknowledgement lost, the flush retried) finds the run
# terminal the second time and adds no second event, and a late ending the ledger refuses (the run was
# reconciled or ended meanwhile) raises none.
_PG_EVENTS = """
events AS (
  INSERT INTO outbox_event (routing_key, payload, created_at, attempts)
  SELECT e.k, CAST(e.p AS jsonb), :now, 0
  FROM unnest(CAST(:v_ids AS varchar[]), CAST(:v_keys AS varchar[]), CAST(:v_payloads AS text[])) AS e(id, k, p)
  WHERE e.id IN (SELECT arq_job_id FROM end_runs) RETURNING 1)"""
_ROWS_ENCODER = msgspec.json.Encoder(enc_hook=str)  # a result summary is redacted JSON; str() for any stray type


def _pg_row(r: AttemptRecord, kind: int) -> dict[str, Any]:
    return {"k": kind, "id": r.job_id, "attempt": r.attempt, "worker": r.worker_id, "started": r.started_at,
            "finished": r.finished_at, "duration": r.duration_ms, "rstatus": r.run_status.value,
            "astatus": r.attempt_status if r.finished_at is not None else RunStatus.RUNNING.value,
            "etype": r.error_type, "emsg": r.error_message, "result": r.result_summary,
            "next": r.next_attempt_at}


@functools.lru_cache(maxsize=128)
def _psycopg_query(statement: str) -> bytes:
    """The statement in psycopg's placeholders (binary: the few arrays left need no text quoting); a
    batch has few shapes (which CTEs it needs), so the conversion is cached."""
    return _PARAM.sub(r"%(\1)b", statement).encode()


def pg_batch_statement(starts: list[AttemptRecord], new_attempts: list[AttemptRecord], ends: list[AttemptRecord],
                       now: datetime) -> tuple[str, dict[str, Any]] | None:
    """The batch as one SQL statement and its parameters (None when there is nothing to write).
    ``new_attempts`` is ``starts`` plus the ``ends`` whose start was never written."""
    rows = [_pg_row(r, _START | _NEW_ATTEMPT) for r in starts]
    rows += [_pg_row(r, _END | (_WRITTEN if r.start_written else _NEW_ATTEMPT)) for r in ends]
    if len(new_attempts) != len(starts) + sum(1 for r in ends if not r.start_written):
        raise ValueError("new_attempts must be the starts plus the ends whose start was not written")
    parts: list[str] = []
    params: dict[str, Any] = {"now": now}
    if rows:
        parts.append(_PG_ROWS.format(limit=_rows_limit(len(rows))))
        params["rows"] = _ROWS_ENCODER.encode(rows).decode()
        if starts:
            parts.append(_PG_START_RUNS)
        if any(r.attempt > 1 for r in new_attempts):
            parts.append(_PG_MARK_LOST)
        if new_attempts:
            parts.append(_PG_INSERT_ATTEMPTS)
        if ends:
            parts.append(_PG_END_RUNS)
        if any(r.start_written for r in ends):
            parts.append(_PG_END_ATTEMPTS)
    events = [(r.job_id, r.event) for r in ends if r.event]
    if events:
        for _, (key, _payload) in events:
            if key not in EVENT_TOPICS:
                raise ValueError(f"unknown event topic {key!r}")
        parts.append(_PG_EVENTS)  # after _PG_END_RUNS, which any ending adds
        params.update(v_ids=[job_id for job_id, _ in events], v_keys=[k for _, (k, _p) in events],
                      v_payloads=[json.dumps(p, default=str) for _, (_k, p) in events])
    if not parts:
        return None
    return "WITH" + ",".join(parts) + "\nSELECT 1", params


def _rows_limit(count: int) -> int:
    """The row set's LIMIT: ``count`` rounded up to a power of two (at least 8), so the planner's
    guess is within 2x of the truth while a few statement texts cover every batch size."""
    return max(8, 1 << (count - 1).bit_length())


def _attempt_row(r: AttemptRecord) -> dict[str, Any]:
    final = r.finished_at is not None
    return {
        "arq_job_id": r.job_id, "attempt": r.attempt, "worker_id": r.worker_id,
        "status": r.attempt_status if final else RunStatus.RUNNING.value,
        "started_at": r.started_at, "finished_at": r.finished_at, "duration_ms": r.duration_ms,
        "error_type": r.error_type, "error_message": r.error_message,
    }
