"""Schedule runner: fire ``job_config`` rows (cron or every N seconds) whose ``next_run_at`` is due.

Exactly once, even with two controllers: on PostgreSQL the due rows are claimed with
``FOR UPDATE SKIP LOCKED`` and held until the firing is recorded; on both databases the advance of
``next_run_at`` is a conditional UPDATE (only the writer that still finds it due wins) and the job
id is derived from the slot, so a second attempt at the same slot is refused by the ledger.
``next_run_at`` advances from *now*: after downtime a missed schedule runs once, not once per slot.
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

from controller.sql import is_postgres
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.scheduling import JobConfig, JobRun
from core.errors import CatalogError
from core.ledger.arguments import open_kwargs
from core.queues.catalog import function
from core.queues.enqueue import Enqueuer, EnqueueRequest
from core.secrets import SecretBox

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
    request: EnqueueRequest | None  # None: the function is not in the catalog


class ScheduleRunner:
    """One ``tick`` fires every due schedule once."""

    def __init__(self, sessions: sessionmaker[Session], enqueuer: Enqueuer, box: SecretBox | None = None) -> None:
        self._sessions = sessions
        self._enqueuer = enqueuer
        self._box = box  # opens job_config.args_sealed (the real arguments of schedules with secrets)

    async def tick(self, now: datetime | None = None) -> int:
        """Returns how many schedules were fired (a job enqueued and a job_run recorded)."""
        now = now or utcnow()
        session = self._sessions()
        try:
            rows = await asyncio.to_thread(self._claim, session, now)
            firings = [self._firing(row) for row in rows]
            requests = [f.request for f in firings if f.request is not None]
            enqueued = set(await self._enqueuer.enqueue_many(requests)) if requests else set()
            fired = await asyncio.to_thread(self._record, session, rows, firings, enqueued, now)
        except asyncio.CancelledError:
            raise  # a worker thread may still be inside the session: never touch it from here
        except BaseException:
            await asyncio.to_thread(session.close)  # rolls back and releases the row locks
            raise
        await asyncio.to_thread(session.close)
        return fired

    def _claim(self, session: Session, now: datetime) -> list[Any]:
        """Due rows (and rows never planned); on PostgreSQL locked until this tick commits."""
        stmt = (select(JobConfig.id, JobConfig.function, JobConfig.args, JobConfig.args_sealed, JobConfig.tenant_id,
                       JobConfig.cron,
                       JobConfig.interval_seconds, JobConfig.next_run_at)
                .where(JobConfig.enabled.is_(True))
                .where((JobConfig.next_run_at <= now) | JobConfig.next_run_at.is_(None))
                .order_by(JobConfig.next_run_at).limit(BATCH))
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True, of=JobConfig)
        return list(session.execute(stmt).all())

    def _firing(self, row: Any) -> _Firing:
        if row.next_run_at is None:
            return _Firing(row.id, row.next_run_at, None)
        try:
            spec = function(row.function)
        except CatalogError:
            log.error("schedule %s names %r, which is not a catalogued function; skipped", row.id, row.function)
            return _Firing(row.id, row.next_run_at, None)
        kwargs: dict[str, Any] | None = dict(row.args or {})
        if row.args_sealed is not None:
            kwargs = open_kwargs(row.args, row.args_sealed, self._box) if self._box is not None else None
        if kwargs is None:
            log.error("schedule %s: its sealed arguments cannot be opened (secret key changed?); skipped", row.id)
            return _Firing(row.id, row.next_run_at, None)
        slot = int(row.next_run_at.timestamp())
        request = EnqueueRequest(spec, kwargs, tenant_id=row.tenant_id,
                                 dedup_key=f"schedule:{row.id}", job_id=f"schedule:{row.id}:{slot}")
        return _Firing(row.id, row.next_run_at, request)

    def _record(self, session: Session, rows: list[Any], firings: list[_Firing], enqueued: set[str],
                now: datetime) -> int:
        ids = [f.request.job_id for f in firings if f.request is not None and f.request.job_id]
        ledger = dict(session.execute(select(WorkerJobRun.arq_job_id, WorkerJobRun.id)
                                      .where(WorkerJobRun.arq_job_id.in_(ids))).all()) if ids else {}
        fired = 0
        for row, firing in zip(rows, firings, strict=True):
            if not self._advance(session, row, now):
                continue  # another controller advanced it first
            job_id = firing.request.job_id if firing.request is not None else None
            if job_id is None:
                continue
            if job_id not in ledger:
                log.info("schedule %s: previous run still active, slot %s not enqueued", row.id, row.next_run_at)
                continue
            if job_id not in enqueued:
                log.info("schedule %s: slot %s was enqueued by an earlier attempt", row.id, row.next_run_at)
            session.execute(insert(JobRun).values(job_config_id=row.id, worker_job_run_id=ledger[job_id],
                                                  scheduled_for=firing.scheduled_for, created_at=now))
            fired += 1
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
