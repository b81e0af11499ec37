"""The ledger recorder's SQLite path (single-host dev mode): the batch as executemany steps in one
transaction. Its own module because it is built from SQLAlchemy Core and the ORM tables, which a
PostgreSQL worker (one psycopg statement per batch, see core.ledger.recorder) never needs to import.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, insert, text, update

from core.db.models.ledger import WorkerJobAttempt, WorkerJobRun
from core.ledger.recorder import LOST, AttemptRecord
from core.ledger.recorder import _attempt_row as attempt_row  # the row both write paths insert
from core.ledger.states import ACTIVE_STATUSES_SQL, RunStatus

__all__ = ["write_rows"]

# A literal predicate: executemany cannot expand an IN list, and terminal rows must never be overwritten.
_ACTIVE = text(f"worker_job_run.{ACTIVE_STATUSES_SQL}")
_RUN: Table = WorkerJobRun.__table__  # type: ignore[assignment]
_ATTEMPT: Table = WorkerJobAttempt.__table__  # type: ignore[assignment]

_START_RUN = (
    update(_RUN)
    .where(and_(_RUN.c.arq_job_id == bindparam("b_id"), _ACTIVE))
    .values(status=RunStatus.RUNNING.value, attempt=bindparam("b_attempt"), started_at=bindparam("b_started"),
            worker_id=bindparam("b_worker"), updated_at=bindparam("b_now"), next_attempt_at=None)
)
_MARK_LOST = (
    update(_ATTEMPT)
    .where(and_(_ATTEMPT.c.arq_job_id == bindparam("b_id"), _ATTEMPT.c.attempt < bindparam("b_attempt"),
                _ATTEMPT.c.status == RunStatus.RUNNING.value))
    .values(status=LOST, finished_at=bindparam("b_now"), error_type="WorkerLost",
            error_message="the worker of this attempt stopped; the job was claimed again")
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


def write_rows(conn: Connection, starts: list[AttemptRecord], new_attempts: list[AttemptRecord],
               ends: list[AttemptRecord], now: datetime) -> set[str]:
    """Write the batch; returns the job ids whose run took its ending (it was still active), the
    endings whose events go out."""
    if starts:
        conn.execute(_START_RUN, [
            {"b_id": r.job_id, "b_attempt": r.attempt, "b_started": r.started_at, "b_worker": r.worker_id,
             "b_now": now} for r in starts])
    retried = [r for r in new_attempts if r.attempt > 1]
    if retried:
        conn.execute(_MARK_LOST, [{"b_id": r.job_id, "b_attempt": r.attempt, "b_now": now} for r in retried])
    if new_attempts:
        job_ids = {r.job_id for r in new_attempts}
        existing = {(row[0], row[1]) for row in conn.execute(
            _ATTEMPT.select().with_only_columns(_ATTEMPT.c.arq_job_id, _ATTEMPT.c.attempt)
            .where(_ATTEMPT.c.arq_job_id.in_(job_ids)))}
        # only jobs the ledger knows, as on PostgreSQL: one unknown job must not fail the whole batch
        known = set(conn.execute(_RUN.select().with_only_columns(_RUN.c.arq_job_id)
                                 .where(_RUN.c.arq_job_id.in_(job_ids))).scalars())
        rows = [attempt_row(r) for r in new_attempts if r.job_id in known and (r.job_id, r.attempt) not in existing]
        if rows:
            conn.execute(insert(_ATTEMPT), rows)
    applied: set[str] = set()
    if ends:
        applied = set(conn.execute(_RUN.select().with_only_columns(_RUN.c.arq_job_id)
                                   .where(_RUN.c.arq_job_id.in_({r.job_id for r in ends}), _ACTIVE)).scalars())
        conn.execute(_END_RUN, [_end_params(r, now) for r in ends])
        written = [_attempt_end_params(r) for r in ends if r.start_written]
        if written:
            conn.execute(_END_ATTEMPT, written)
    return applied


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
