"""Ledger reads: keyset-paginated search (newest first on ``(enqueued_at, id)``) and one run's detail."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from admin_api.errors import BadInput, NotFound
from admin_api.jobs.schemas import AttemptView, ReplayRef, Resolution, RunDetail, RunFilter, RunSummary
from core.db.models.dead_letters import DeadLetterResolution
from core.db.models.ledger import WorkerJobAttempt, WorkerJobRun
from core.ledger.states import RunStatus

__all__ = ["LIST_COLUMNS", "SUMMARY_COLUMNS", "decode_cursor", "encode_cursor", "load_run", "page", "run_detail",
           "search_runs"]

R = WorkerJobRun
# RunSummary field -> worker_job_run column: the one column list of both search paths
SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (name, "arq_job_id" if name == "job_id" else name) for name in RunSummary.__struct_fields__)
LIST_COLUMNS = tuple(R.__table__.c[column].label(name) for name, column in SUMMARY_COLUMNS)


def encode_cursor(enqueued_at: datetime, run_id: int) -> str:
    return base64.urlsafe_b64encode(f"{enqueued_at.isoformat()}|{run_id}".encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[datetime, int]:
    """Inverse of :func:`encode_cursor`; anything else is a 400 naming ``cursor``."""
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        stamp, run_id = text.rsplit("|", 1)
        moment = datetime.fromisoformat(stamp)
        number = int(run_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput("cursor", "not a cursor returned by this API") from exc
    if moment.tzinfo is None or not 0 < number < 2**63:
        raise BadInput("cursor", "not a cursor returned by this API")
    return moment, number


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def filtered(stmt: Any, flt: RunFilter) -> Select[Any]:
    """Apply a filter's conditions and keyset position (shared by jobs and dead letters)."""
    if flt.queue:
        stmt = stmt.where(R.queue == flt.queue)
    if flt.function:
        stmt = stmt.where(R.function == flt.function)
    if len(flt.statuses) == 1:
        stmt = stmt.where(R.status == flt.statuses[0])
    elif flt.statuses:
        stmt = stmt.where(R.status.in_(flt.statuses))
    if flt.tenant_id is not None:
        stmt = stmt.where(R.tenant_id == flt.tenant_id)
    if flt.since:
        stmt = stmt.where(R.enqueued_at >= _utc(flt.since))
    if flt.until:
        stmt = stmt.where(R.enqueued_at < _utc(flt.until))
    if flt.cursor:
        stmt = stmt.where(tuple_(R.enqueued_at, R.id) < tuple_(*flt.cursor))
    ordered: Select[Any] = stmt.order_by(R.enqueued_at.desc(), R.id.desc()).limit(flt.limit + 1)
    return ordered


def page(rows: list[Any], limit: int) -> tuple[list[Any], str | None]:
    """The first ``limit`` rows plus the cursor of the next page (None on the last page)."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1].enqueued_at, rows[-1].id) if more and rows else None
    return rows, cursor


def search_runs(session: Session, flt: RunFilter) -> tuple[list[RunSummary], str | None]:
    rows, cursor = page(list(session.execute(filtered(select(*LIST_COLUMNS), flt))), flt.limit)
    return [RunSummary(**row._mapping) for row in rows], cursor


def load_run(session: Session, run_id: int) -> WorkerJobRun:
    run = session.get(WorkerJobRun, run_id)
    if run is None:
        raise NotFound(f"no job run with id {run_id}")
    return run


def run_detail(session: Session, run_id: int) -> RunDetail:
    """Everything about one run: fields, attempt timeline, replays, dead-letter resolution."""
    run = load_run(session, run_id)
    attempts = session.scalars(
        select(WorkerJobAttempt).where(WorkerJobAttempt.arq_job_id == run.arq_job_id)
        .order_by(WorkerJobAttempt.attempt, WorkerJobAttempt.id)).all()
    replays = session.execute(select(R.id, R.status).where(R.replay_of_id == run.id).order_by(R.id)).all()
    resolution = session.get(DeadLetterResolution, run.id)
    return RunDetail(
        id=run.id, job_id=run.arq_job_id, queue=run.queue, function=run.function, tenant_id=run.tenant_id,
        args=run.args_redacted, status=RunStatus(run.status), attempt=run.attempt, max_attempts=run.max_attempts,
        enqueued_at=run.enqueued_at, started_at=run.started_at, finished_at=run.finished_at,
        next_attempt_at=run.next_attempt_at, duration_ms=run.duration_ms, worker_id=run.worker_id,
        error_type=run.error_type, error_message=run.error_message, result_summary=run.result_summary,
        reconcile_meta=run.reconcile_meta, replay_of_id=run.replay_of_id, dedup_key=run.dedup_key,
        attempts=[AttemptView(attempt=a.attempt, worker_id=a.worker_id, status=a.status, started_at=a.started_at,
                              finished_at=a.finished_at, duration_ms=a.duration_ms, error_type=a.error_type,
                              error_message=a.error_message) for a in attempts],
        replays=[ReplayRef(id=r.id, status=RunStatus(r.status)) for r in replays],
        resolution=None if resolution is None else Resolution(
            action=resolution.action, new_run_id=resolution.new_run_id, by=resolution.resolved_by,
            at=resolution.resolved_at),
    )
