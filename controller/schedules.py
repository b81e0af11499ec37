"""Schedule runner: fire ``job_config`` rows (cron or every N seconds) whose ``next_run_at`` is due.

Exactly once, even with two controllers: on PostgreSQL the due rows are claimed with
``FOR UPDATE SKIP LOCKED`` and held until the firing is recorded; on both databases the advance of
``next_run_at`` is a conditional UPDATE (only the writer that still finds it due wins) and the job
id is derived from the slot, so a second attempt at the same slot is refused by the ledger.
``next_run_at`` advances from *now*: after downtime a missed schedule runs once, not once per slot.

A ``per_tenant`` row fans out: each firing enqueues one job per active tenant (``tenant_id`` passed),
read at firing time, so a tenant added a minute ago is covered by the next firing. Rows of
``run_agent_report_task`` are left to ``dispatch_due_agent_reports_task`` (the one path that passes
``job_config_id`` and ``period_end``, so a retry re-sends the same report).

Arguments are read through ``core.schedules.arguments`` (secret ones are sealed at rest): a row whose
sealed arguments cannot be opened with the configured key is skipped with an error, never fired with
the redacted copy.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db.dialect import is_postgres
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.scheduling import JobConfig, JobRun
from core.db.models.tenants import Tenant
from core.defaults import AGENT_REPORT_FUNCTION
from core.errors import CatalogError
from core.queues.catalog import function
from core.queues.enqueue import Enqueuer, EnqueueRequest
from core.schedules.arguments import UnreadableArguments, schedule_arguments
from core.secrets import SecretBox
from core.seed_names import current_function_name

__all__ = ["ScheduleRunner", "next_run_after"]

log = logging.getLogger(__name__)
BATCH = 200


def next_run_after(cron: str | None, interval_seconds: int | None, after: datetime) -> datetime | None:
    """The next firing strictly after ``after`` (UTC); None when the row has neither cron nor interval."""
    if cron:
        result: datetime = croniter(cron, after).get_next(datetime)
        return result
    if interval_seconds and interval_seconds > 0:
        return after + timedelta(seconds=interval_seconds)
    return None


@dataclass(frozen=True, slots=True)
class _Firing:
    config_id: int
    scheduled_for: datetime | None
    requests: tuple[EnqueueRequest, ...]  # empty: unplanned row, or a function not in the catalog


class ScheduleRunner:
    """One ``tick`` fires every due schedule once."""

    def __init__(self, sessions: sessionmaker[Session], enqueuer: Enqueuer, secrets: SecretBox) -> None:
        self._sessions = sessions
        self._enqueuer = enqueuer
        self._secrets = secrets

    async def tick(self, now: datetime | None = None) -> int:
        """Returns how many schedules were fired (a job enqueued and a job_run recorded)."""
        now = now or utcnow()
        session = self._sessions()
        try:
            rows, tenants = await asyncio.to_thread(self._claim, session, now)
            firings = [self._firing(row, tenants) for row in rows]
            requests = [r for f in firings for r in f.requests]
            enqueued = set(await self._enqueuer.enqueue_many(requests)) if requests else set()
            fired = await asyncio.to_thread(self._record, session, rows, firings, enqueued, now)
        except asyncio.CancelledError:
            raise  # a worker thread may still be inside the session: never touch it from here
        except BaseException:
            await asyncio.to_thread(session.close)  # rolls back and releases the row locks
            raise
        await asyncio.to_thread(session.close)
        return fired

    def _claim(self, session: Session, now: datetime) -> tuple[list[Any], list[int]]:
        """Due rows (and rows never planned), locked on PostgreSQL until this tick commits; and, when
        a due row fans out, the active tenants."""
        stmt = (select(JobConfig.id, JobConfig.function, JobConfig.args, JobConfig.args_sealed, JobConfig.tenant_id,
                       JobConfig.cron, JobConfig.interval_seconds, JobConfig.next_run_at, JobConfig.per_tenant)
                .where(JobConfig.enabled.is_(True), JobConfig.function != AGENT_REPORT_FUNCTION)
                .where((JobConfig.next_run_at <= now) | JobConfig.next_run_at.is_(None))
                .order_by(JobConfig.next_run_at).limit(BATCH))
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True, of=JobConfig)
        rows = list(session.execute(stmt).all())
        tenants: list[int] = []
        if any(r.per_tenant for r in rows):
            tenants = list(session.scalars(select(Tenant.id).where(Tenant.active.is_(True)).order_by(Tenant.id)))
        return rows, tenants

    def _firing(self, row: Any, tenants: list[int]) -> _Firing:
        if row.next_run_at is None:
            return _Firing(row.id, row.next_run_at, ())
        try:
            spec = function(current_function_name(row.function, f"schedule {row.id}"))
        except CatalogError:
            log.error("schedule %s names %r, which is not a catalogued function; skipped", row.id, row.function)
            return _Firing(row.id, row.next_run_at, ())
        try:
            args = schedule_arguments(row, self._secrets)
        except UnreadableArguments as exc:
            log.error("schedule %s skipped: %s", row.id, exc)
            return _Firing(row.id, row.next_run_at, ())
        slot = int(row.next_run_at.timestamp())
        if not row.per_tenant:
            return _Firing(row.id, row.next_run_at, (EnqueueRequest(
                spec, args, tenant_id=row.tenant_id, dedup_key=f"schedule:{row.id}",
                job_id=f"schedule:{row.id}:{slot}"),))
        return _Firing(row.id, row.next_run_at, tuple(EnqueueRequest(
            spec, args | {"tenant_id": tid}, tenant_id=tid, dedup_key=f"schedule:{row.id}:t{tid}",
            job_id=f"schedule:{row.id}:{slot}:t{tid}") for tid in tenants))

    def _record(self, session: Session, rows: list[Any], firings: list[_Firing], enqueued: set[str],
                now: datetime) -> int:
        ids = [r.job_id for f in firings for r in f.requests if r.job_id]
        ledger = dict(session.execute(select(WorkerJobRun.arq_job_id, WorkerJobRun.id)
                                      .where(WorkerJobRun.arq_job_id.in_(ids))).all()) if ids else {}
        fired = 0
        for row, firing in zip(rows, firings, strict=True):
            if not self._advance(session, row, now):
                continue  # another controller advanced it first
            recorded = 0
            for request in firing.requests:
                job_id = request.job_id or ""
                if job_id not in ledger:
                    log.info("schedule %s: previous run still active, slot %s not enqueued (%s)", row.id,
                             row.next_run_at, job_id)
                    continue
                if job_id not in enqueued:
                    log.info("schedule %s: %s was enqueued by an earlier attempt", row.id, job_id)
                session.execute(insert(JobRun).values(job_config_id=row.id, worker_job_run_id=ledger[job_id],
                                                      scheduled_for=firing.scheduled_for, created_at=now))
                recorded += 1
            fired += 1 if recorded else 0
        session.commit()
        return fired

    @staticmethod
    def _advance(session: Session, row: Any, now: datetime) -> bool:
        """Move next_run_at on from now; the WHERE (still due) makes this the claim on SQLite."""
        nxt = next_run_after(row.cron, row.interval_seconds, now)
        values: dict[str, Any] = {"next_run_at": nxt, "updated_at": now}
        if row.next_run_at is not None:
            values["last_run_at"] = now
        if nxt is None:
            values["enabled"] = False
            log.error("schedule %s has neither cron nor interval; disabled", row.id)
        # still unplanned / still due: a writer that advanced it first moved next_run_at past now
        condition = (JobConfig.next_run_at.is_(None) if row.next_run_at is None
                     else JobConfig.next_run_at <= now)
        result = session.execute(update(JobConfig).where(JobConfig.id == row.id, condition).values(**values))
        return bool(getattr(result, "rowcount", 0) == 1)
