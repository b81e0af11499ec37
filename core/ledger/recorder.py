"""Batched ledger recording for workers (group commit).

Every attempt start and end goes into an in-memory batch; a flusher writes each batch in ONE
transaction (executemany, so psycopg pipelines it) and only then lets the worker finish the jobs in
Redis and reuse their slots. A job therefore never leaves Redis before its ledger row says how it
ended, yet the cost per job is a fraction of a round trip. When a job ends before its start was
flushed, start and end are merged into a single write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table, and_, bindparam, insert, text, update
from sqlalchemy.exc import SQLAlchemyError

from core.db.models.base import utcnow
from core.db.models.ledger import ACTIVE_STATUSES_SQL, WorkerJobAttempt, WorkerJobRun
from core.errors import LedgerError
from core.events.outbox import record_events
from core.ledger.states import AttemptStatus, RunStatus

__all__ = ["AttemptRecord", "LedgerRecorder"]

log = logging.getLogger(__name__)
# A literal predicate: executemany cannot expand an IN list, and terminal rows must never be overwritten.
_ACTIVE = text(f"worker_job_run.{ACTIVE_STATUSES_SQL}")
_RUN: Table = WorkerJobRun.__table__  # type: ignore[assignment]
_ATTEMPT: Table = WorkerJobAttempt.__table__  # type: ignore[assignment]


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


_START_RUN = (
    update(_RUN)
    .where(and_(_RUN.c.arq_job_id == bindparam("b_id"), _ACTIVE))
    .values(status=RunStatus.RUNNING.value, attempt=bindparam("b_attempt"), started_at=bindparam("b_started"),
            worker_id=bindparam("b_worker"), updated_at=bindparam("b_now"), next_attempt_at=None)
)
_END_RUN = (
    update(_RUN)
    .where(and_(_RUN.c.arq_job_id == bindparam("b_id"), _ACTIVE))
    .values(status=bindparam("b_status"), attempt=bindparam("b_attempt"), started_at=bindparam("b_started"),
            worker_id=bindparam("b_worker"), finished_at=bindparam("b_finished"),
            duration_ms=bindparam("b_duration"), error_type=bindparam("b_etype"),
            error_message=bindparam("b_emsg"), result_summary=bindparam("b_result"),
            next_attempt_at=bindparam("b_next"), updated_at=bindparam("b_now"))
)
_END_ATTEMPT = (
    update(_ATTEMPT)
    .where(and_(_ATTEMPT.c.arq_job_id == bindparam("b_id"), _ATTEMPT.c.attempt == bindparam("b_attempt")))
    .values(status=bindparam("b_astatus"), finished_at=bindparam("b_finished"), duration_ms=bindparam("b_duration"),
            error_type=bindparam("b_etype"), error_message=bindparam("b_emsg"))
)


class LedgerRecorder:
    """Collects attempt records and writes them in batches from a background task."""

    def __init__(self, engine: Engine, flush_interval_s: float,
                 on_committed: Callable[[list[Any]], Awaitable[None]]) -> None:
        self._engine = engine
        self._interval = flush_interval_s
        self._on_committed = on_committed
        self._starts: list[AttemptRecord] = []
        self._ends: list[AttemptRecord] = []
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="ledger-flusher")

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

    async def close(self) -> None:
        """Flush what is pending and stop."""
        self._closing = True
        self._dirty.set()
        if self._task:
            await self._task

    async def _run(self) -> None:
        while True:
            await self._dirty.wait()
            if self._interval > 0 and not self._closing:
                await asyncio.sleep(self._interval)
            self._dirty.clear()
            starts, ends = self._starts, self._ends
            self._starts, self._ends = [], []
            if starts or ends:
                await self._flush(starts, ends)
            if self._closing and not self._starts and not self._ends:
                return

    async def _flush(self, starts: list[AttemptRecord], ends: list[AttemptRecord]) -> None:
        ended = {id(r) for r in ends}
        fresh_starts = [r for r in starts if id(r) not in ended]
        for attempt in range(1, 6):
            try:
                await asyncio.to_thread(self._write, fresh_starts, ends)
                break
            except SQLAlchemyError as exc:
                log.warning("ledger write failed (try %d/5): %s", attempt, exc)
                if attempt == 5:
                    error = LedgerError(f"ledger write failed: {exc}")
                    for r in ends:
                        if r.done and not r.done.done():
                            r.done.set_exception(error)
                    return
                await asyncio.sleep(0.2 * attempt)
        for r in fresh_starts:
            r.start_written = True
        try:
            await self._on_committed([r.after for r in ends])
        finally:
            for r in ends:
                if r.done and not r.done.done():
                    r.done.set_result(None)

    def _write(self, starts: list[AttemptRecord], ends: list[AttemptRecord]) -> None:
        now = utcnow()
        with self._engine.begin() as conn:
            if starts:
                conn.execute(_START_RUN, [
                    {"b_id": r.job_id, "b_attempt": r.attempt, "b_started": r.started_at, "b_worker": r.worker_id,
                     "b_now": now} for r in starts])
            new_attempts = [*starts, *(r for r in ends if not r.start_written)]
            if new_attempts:
                conn.execute(insert(_ATTEMPT), [_attempt_row(r) for r in new_attempts])
            if ends:
                params = [_end_params(r, now) for r in ends]
                conn.execute(_END_RUN, params)
                written = [_attempt_end_params(r) for r in ends if r.start_written]
                if written:
                    conn.execute(_END_ATTEMPT, written)
                record_events(conn, [r.event for r in ends if r.event])


def _attempt_row(r: AttemptRecord) -> dict[str, Any]:
    final = r.finished_at is not None
    return {
        "arq_job_id": r.job_id, "attempt": r.attempt, "worker_id": r.worker_id,
        "status": r.attempt_status if final else RunStatus.RUNNING.value,
        "started_at": r.started_at, "finished_at": r.finished_at, "duration_ms": r.duration_ms,
        "error_type": r.error_type, "error_message": r.error_message,
    }


def _attempt_end_params(r: AttemptRecord) -> dict[str, Any]:
    return {
        "b_id": r.job_id, "b_attempt": r.attempt, "b_astatus": r.attempt_status, "b_finished": r.finished_at,
        "b_duration": r.duration_ms, "b_etype": r.error_type, "b_emsg": r.error_message,
    }


def _end_params(r: AttemptRecord, now: datetime) -> dict[str, Any]:
    return {
        "b_id": r.job_id, "b_status": r.run_status.value, "b_attempt": r.attempt, "b_started": r.started_at,
        "b_worker": r.worker_id, "b_finished": r.finished_at, "b_duration": r.duration_ms,
        "b_etype": r.error_type, "b_emsg": r.error_message, "b_result": r.result_summary,
        "b_next": r.next_attempt_at, "b_now": now,
    }
