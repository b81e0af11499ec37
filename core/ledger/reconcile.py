"""Reconciliation: bring ledger rows that can no longer finish on their own to an honest state.

Three cases (docs/controller.md, "Reconciliation"; the third is issue 17's Redis data loss):
- a ``queued`` (or ``retrying``) row older than the stale-queue timeout whose job is no longer
  runnable in Redis (job key or queue entry gone, not in progress) -> ``skipped`` (the seed's rule);
- a younger ``queued`` / ``retrying`` row whose job vanished from Redis (a flush or a restart
  without persistence) -> ``skipped`` with reason ``job vanished`` once it is older than a short
  grace (the ledger row is written before the push, so a brand-new row may not be in Redis yet)
  and no result of it is in Redis (a finished job whose ending still waits in a worker's recorder).
  Skipping, not re-enqueueing: polls are re-dispatched by the controller at once (the dedup key is
  free again) and catch up from their watermark; any other job can be replayed from the console;
  the ledger holds only redacted arguments, so a re-push could not always rebuild the job;
- a ``running`` row whose worker heartbeat is gone and whose in-progress lease is gone ->
  ``retrying`` when the job still sits in its queue (a worker will claim it again), else ``skipped``.

A running row whose worker is alive, or whose lease is still held, is merely slow and left alone.
Only candidate rows are read (index on ``status, enqueued_at``), Redis is asked about them in one
script call per chunk, and the changes are grouped into a few set-based UPDATEs that repeat the
observed status (and worker, attempt) in their WHERE clause: a row that moved meanwhile, or that
another controller already recovered, is not touched, so a pass is idempotent and safe to run twice.
Each recovered row keeps ``reconcile_meta`` and emits a ``run.reconciled`` outbox event.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import Table, and_, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from core.db.dialect import is_postgres
from core.db.models.base import utcnow
from core.db.models.controller import WorkerProcess
from core.db.models.ledger import WorkerJobAttempt, WorkerJobRun
from core.events.outbox import record_events
from core.ledger.states import AttemptStatus, RunStatus
from core.queues.keys import result_key, worker_key
from core.queues.state import JobState, job_states

__all__ = ["VANISHED", "JobState", "ReconcileReport", "Recovery", "reconcile", "reconcile_once"]

_RUN: Table = WorkerJobRun.__table__  # type: ignore[assignment]
_ATTEMPT: Table = WorkerJobAttempt.__table__  # type: ignore[assignment]
CHUNK = 5000
VANISHED = "job vanished"  # reconcile_meta.reason of a waiting run whose job Redis lost


@dataclass(frozen=True, slots=True)
class _Candidate:
    id: int
    job_id: str
    queue: str
    status: str
    worker_id: str | None
    attempt: int
    stale: bool = True  # older than the stale-queue timeout (False: only past the vanished-job grace)
    has_result: bool = False  # Redis holds its result: it finished, the ledger write is on its way


@dataclass(frozen=True, slots=True)
class Recovery:
    """One decided change: which row, from what to what, and why."""

    id: int
    previous_status: str
    new_status: str
    reason: str
    worker_id: str | None
    attempt: int


@dataclass(slots=True)
class ReconcileReport:
    """What one pass saw and changed (the admin API shows it; the controller logs it)."""

    examined: int = 0
    skipped: int = 0
    retrying: int = 0
    left_alone: int = 0
    recovered_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"examined": self.examined, "skipped": self.skipped, "retrying": self.retrying,
                "left_alone": self.left_alone}


REASONS = {
    "stale_queued": "queued longer than the stale-queue timeout and no longer runnable in Redis",
    "stale_retrying": "waiting for a retry longer than the stale-queue timeout and no longer in Redis",
    "worker_lost_requeued": "worker heartbeat gone; the job is still queued and will run again",
    "worker_lost": "worker heartbeat gone and the job is neither in progress nor queued",
    VANISHED: "the job vanished from Redis (data lost or flushed) before it ran",
}


async def reconcile(sessions: sessionmaker[Session], redis: Redis, *, stale_after: timedelta,
                    vanished_after: timedelta | None = None, now: datetime | None = None) -> ReconcileReport:
    """One reconciliation pass; see the module docstring for the rules.

    ``vanished_after`` is the grace after which a waiting run whose job is gone from Redis is
    recovered (None: only the stale-queue rule applies).
    """
    now = now or utcnow()
    grace_cutoff = now - min(vanished_after, stale_after) if vanished_after is not None else None
    candidates = await asyncio.to_thread(_load_candidates, sessions, now - stale_after, grace_cutoff)
    report = ReconcileReport(examined=len(candidates))
    if not candidates:
        return report
    states = await _job_states(redis, candidates)
    candidates = await _mark_results(redis, candidates, states)
    workers = sorted({c.worker_id for c in candidates if c.status == RunStatus.RUNNING and c.worker_id})
    alive = await _alive_workers(redis, workers)
    decisions = [d for c, s in zip(candidates, states, strict=True) if (d := decide(c, s, alive)) is not None]
    report.left_alone = len(candidates) - len(decisions)
    if decisions:
        changed = await asyncio.to_thread(_apply, sessions, decisions, now)
        report.recovered_ids = [rid for rid, _ in changed]
        report.skipped = sum(1 for _, status in changed if status == RunStatus.SKIPPED)
        report.retrying = sum(1 for _, status in changed if status == RunStatus.RETRYING)
    return report


async def reconcile_once(sessions: sessionmaker[Session], redis: Redis, stale_minutes: float,
                         vanished_grace_s: float | None = None) -> ReconcileReport:
    """The common call with the settings' timeouts (the controller loop and the admin API's "reconcile now")."""
    vanished = timedelta(seconds=vanished_grace_s) if vanished_grace_s is not None else None
    return await reconcile(sessions, redis, stale_after=timedelta(minutes=stale_minutes), vanished_after=vanished)


def decide(c: _Candidate, job_state: int, alive_workers: set[str]) -> Recovery | None:
    """The rule table for one candidate row; None leaves it alone."""
    if c.status in (RunStatus.QUEUED, RunStatus.RETRYING):
        if job_state != JobState.GONE:
            return None
        if not c.stale:
            if c.has_result:
                return None  # it ran and finished; the worker's ledger write will close the row
            return Recovery(c.id, c.status, RunStatus.SKIPPED.value, VANISHED, c.worker_id, c.attempt)
        reason = "stale_queued" if c.status == RunStatus.QUEUED else "stale_retrying"
        return Recovery(c.id, c.status, RunStatus.SKIPPED.value, reason, c.worker_id, c.attempt)
    if (c.worker_id and c.worker_id in alive_workers) or job_state == JobState.IN_PROGRESS:
        return None  # merely slow, or the lease has not expired yet
    if job_state == JobState.RUNNABLE:
        return Recovery(c.id, c.status, RunStatus.RETRYING.value, "worker_lost_requeued", c.worker_id, c.attempt)
    return Recovery(c.id, c.status, RunStatus.SKIPPED.value, "worker_lost", c.worker_id, c.attempt)


def _load_candidates(sessions: sessionmaker[Session], cutoff: datetime,
                     grace_cutoff: datetime | None) -> list[_Candidate]:
    """Waiting rows past the stale timeout (or the vanished-job grace) and every running row."""
    waiting_since = grace_cutoff or cutoff
    stmt = select(_RUN.c.id, _RUN.c.arq_job_id, _RUN.c.queue, _RUN.c.status, _RUN.c.worker_id,
                  _RUN.c.attempt, _RUN.c.enqueued_at).where(or_(
                      and_(_RUN.c.status == RunStatus.QUEUED.value, _RUN.c.enqueued_at < waiting_since,
                           _RUN.c.started_at.is_(None)),
                      and_(_RUN.c.status == RunStatus.RETRYING.value,
                           or_(_RUN.c.enqueued_at < cutoff, _RUN.c.updated_at < waiting_since)),
                      _RUN.c.status == RunStatus.RUNNING.value,
                  ))
    with sessions() as session:
        return [_Candidate(*row[:6], stale=_aware(row[6]) < cutoff) for row in session.execute(stmt)]


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def _mark_results(redis: Redis, candidates: list[_Candidate], states: list[int]) -> list[_Candidate]:
    """For waiting rows that may have vanished: whether Redis holds their result (they finished)."""
    young = [i for i, (c, s) in enumerate(zip(candidates, states, strict=True))
             if not c.stale and s == JobState.GONE and c.status != RunStatus.RUNNING]
    if not young:
        return candidates
    async with redis.pipeline(transaction=False) as pipe:
        for i in young:
            pipe.exists(result_key(candidates[i].job_id))
        found = await pipe.execute()
    marked = list(candidates)
    for i, n in zip(young, found, strict=True):
        if n:
            marked[i] = replace(candidates[i], has_result=True)
    return marked


async def _job_states(redis: Redis, candidates: Sequence[_Candidate]) -> list[int]:
    return list(await job_states(redis, [(c.job_id, c.queue) for c in candidates]))


async def _alive_workers(redis: Redis, worker_ids: list[str]) -> set[str]:
    if not worker_ids:
        return set()
    async with redis.pipeline(transaction=False) as pipe:
        for wid in worker_ids:
            pipe.exists(worker_key(wid))
        found = await pipe.execute()
    return {wid for wid, n in zip(worker_ids, found, strict=True) if n}


def _apply(sessions: sessionmaker[Session], decisions: list[Recovery], now: datetime) -> list[tuple[int, str]]:
    """Write every decision in one transaction; returns (id, new status) of rows actually changed."""
    groups: dict[tuple[str, str, str, str | None, int], list[int]] = defaultdict(list)
    for d in decisions:
        wid = d.worker_id if d.previous_status == RunStatus.RUNNING else None
        groups[(d.previous_status, d.new_status, d.reason, wid, d.attempt)].append(d.id)
    changed: list[tuple[int, str]] = []
    with sessions() as session, session.begin():
        postgres = is_postgres(session)
        last_seen = _last_heartbeats(session, {d.worker_id for d in decisions if d.worker_id})
        events: list[tuple[str, dict[str, Any]]] = []
        for (prev, new, reason, wid, attempt), ids in groups.items():
            meta = {"reason": reason, "previous_status": prev, "detected_at": now.isoformat(),
                    "last_heartbeat_seen": last_seen.get(wid) if wid else None, "worker_id": wid}
            if postgres:
                changed += [(rid, new) for rid in _pg_update_group(session, ids, attempt, meta, new, now)]
                continue
            for start in range(0, len(ids), CHUNK):
                rows = _update_group(session, ids[start:start + CHUNK], prev, new, wid, attempt, meta, now)
                changed += [(row.id, new) for row in rows]
                events += [("run.reconciled", _event(row, prev, new, reason)) for row in rows]
                if prev == RunStatus.RUNNING:
                    _close_attempts(session, [row.arq_job_id for row in rows], attempt, now)
        record_events(session, events)
    return changed


# PostgreSQL: one statement per group changes the rows (only those still as observed), writes their
# run.reconciled outbox events and closes their lost attempts, all set-based on the server.
_PG_RECOVER = text("""
WITH changed AS (
    UPDATE worker_job_run AS w
    SET status = :new, reconcile_meta = CAST(:meta AS jsonb), updated_at = :now,
        finished_at = CASE WHEN :terminal THEN :now ELSE w.finished_at END,
        error_type = CASE WHEN :terminal THEN 'Reconciled' ELSE w.error_type END,
        error_message = CASE WHEN :terminal THEN CAST(:message AS text) ELSE w.error_message END
    WHERE w.id = ANY(CAST(:ids AS bigint[])) AND w.status = :prev AND w.attempt = :attempt
      AND (NOT :running OR w.worker_id IS NOT DISTINCT FROM CAST(:wid AS varchar))
    RETURNING w.id, w.arq_job_id, w.function, w.queue, w.tenant_id
), events AS (
    INSERT INTO outbox_event (routing_key, payload, created_at, attempts)
    SELECT 'run.reconciled', jsonb_build_object('run_id', c.id, 'job_id', c.arq_job_id, 'function', c.function,
               'queue', c.queue, 'tenant_id', c.tenant_id, 'previous_status', CAST(:prev AS text),
               'status', CAST(:new AS text), 'reason', CAST(:reason AS text)), :now, 0
    FROM changed AS c
), lost AS (
    UPDATE worker_job_attempt AS a
    SET status = :lost, finished_at = :now, error_type = 'WorkerLost',
        error_message = 'worker heartbeat gone while the attempt ran'
    FROM changed AS c
    WHERE :running AND a.arq_job_id = c.arq_job_id AND a.attempt = :attempt AND a.status = 'running'
)
SELECT id FROM changed
""")


def _pg_update_group(session: Session, ids: list[int], attempt: int, meta: dict[str, Any], new: str,
                     now: datetime) -> list[int]:
    prev = str(meta["previous_status"])
    params = {"ids": ids, "prev": prev, "new": new, "attempt": attempt, "now": now, "meta": json.dumps(meta),
              "terminal": new == RunStatus.SKIPPED, "message": REASONS[str(meta["reason"])],
              "running": prev == RunStatus.RUNNING, "wid": meta["worker_id"], "reason": meta["reason"],
              "lost": AttemptStatus.LOST.value}
    return [int(rid) for rid in session.execute(_PG_RECOVER, params).scalars()]


def _update_group(session: Session, ids: list[int], prev: str, new: str, wid: str | None, attempt: int,
                  meta: dict[str, Any], now: datetime) -> list[Any]:
    conditions = [_RUN.c.id.in_(ids), _RUN.c.status == prev, _RUN.c.attempt == attempt]
    if prev == RunStatus.RUNNING:
        conditions.append(_RUN.c.worker_id.is_(None) if wid is None else _RUN.c.worker_id == wid)
    values: dict[str, Any] = {"status": new, "reconcile_meta": meta, "updated_at": now}
    if new == RunStatus.SKIPPED:
        values |= {"finished_at": now, "error_type": "Reconciled", "error_message": REASONS[str(meta["reason"])]}
    stmt = (update(_RUN).where(*conditions).values(**values)
            .returning(_RUN.c.id, _RUN.c.arq_job_id, _RUN.c.function, _RUN.c.queue, _RUN.c.tenant_id))
    return list(session.execute(stmt).all())


def _close_attempts(session: Session, job_ids: list[str], attempt: int, now: datetime) -> None:
    """The lost attempt row would otherwise stay 'running' forever in the attempt timeline."""
    if job_ids:
        session.execute(update(_ATTEMPT).where(
            _ATTEMPT.c.arq_job_id.in_(job_ids), _ATTEMPT.c.attempt == attempt,
            _ATTEMPT.c.status == AttemptStatus.RUNNING.value,
        ).values(status=AttemptStatus.LOST.value, finished_at=now, error_type="WorkerLost",
                 error_message="worker heartbeat gone while the attempt ran"))


def _last_heartbeats(session: Session, worker_ids: set[str]) -> dict[str, str]:
    """Last heartbeat the health watch recorded for each worker (the Redis key has expired by now)."""
    if not worker_ids:
        return {}
    rows = session.execute(select(WorkerProcess.worker_id, WorkerProcess.last_seen)
                           .where(WorkerProcess.worker_id.in_(sorted(worker_ids))))
    return {wid: seen.isoformat() for wid, seen in rows}


def _event(row: Any, prev: str, new: str, reason: str) -> dict[str, Any]:
    return {"run_id": row.id, "job_id": row.arq_job_id, "function": row.function, "queue": row.queue,
            "tenant_id": row.tenant_id, "previous_status": prev, "status": new, "reason": reason}
