"""Retention loop: prune old ledger runs and attempts, delivered outbox events, audit entries and
schedule firings by age, in small batches, so these tables do not grow without bound.

Each batch is one short transaction deleting at most ``retention.batch_rows`` rows found through an
index on the age column, followed by a pause as long as the batch took: an enqueue (an INSERT into
the ledger) never waits behind a long delete, and pruning never takes more than half the database's
time (``python -m bench.prune`` measures it). Only finished rows go: runs in a
terminal state other than ``dead`` (dead letters wait for an operator), attempts that are not
``running``, events already sent. Ages are ``config_ext`` keys (core.config_keys ``retention.*``),
read at every pass, so an operator's change applies at the next one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from core.config_keys import read_int
from core.db.models.base import utcnow
from core.ledger.states import TERMINAL, RunStatus

__all__ = ["PRUNES", "Prune", "Retention"]

log = logging.getLogger(__name__)

_PRUNABLE_RUNS = ", ".join(f"'{s.value}'" for s in sorted(TERMINAL - {RunStatus.DEAD}))


@dataclass(frozen=True, slots=True)
class Prune:
    """One table's rule: the config key of its age in days and the batch statement."""

    table: str
    days_key: str
    sql: str  # deletes at most :n rows older than :cutoff


PRUNES: tuple[Prune, ...] = (
    Prune("worker_job_run", "retention.job_run_days",
          "DELETE FROM worker_job_run WHERE id IN (SELECT id FROM worker_job_run WHERE enqueued_at < :cutoff "
          f"AND status IN ({_PRUNABLE_RUNS}) AND finished_at < :cutoff ORDER BY enqueued_at, id LIMIT :n)"),
    Prune("worker_job_attempt", "retention.job_attempt_days",
          "DELETE FROM worker_job_attempt WHERE id IN (SELECT id FROM worker_job_attempt WHERE started_at < :cutoff "
          "AND status <> 'running' ORDER BY started_at LIMIT :n)"),
    Prune("outbox_event", "retention.outbox_sent_days",
          "DELETE FROM outbox_event WHERE id IN (SELECT id FROM outbox_event WHERE sent_at IS NOT NULL "
          "AND sent_at < :cutoff ORDER BY sent_at, id LIMIT :n)"),
    Prune("audit_log", "retention.audit_log_days",
          "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < :cutoff ORDER BY at, id LIMIT :n)"),
    Prune("job_run", "retention.schedule_run_days",
          "DELETE FROM job_run WHERE id IN (SELECT id FROM job_run WHERE created_at < :cutoff "
          "ORDER BY created_at LIMIT :n)"),
)


class Retention:
    """One ``tick`` prunes every table until nothing old is left or the time budget is spent."""

    def __init__(self, sessions: sessionmaker[Session], *, budget_s: float = 60.0, pause_s: float = 0.02) -> None:
        self._sessions = sessions
        self._budget_s = budget_s
        self._pause_s = pause_s

    async def tick(self, now: datetime | None = None) -> dict[str, int]:
        now = now or utcnow()
        cutoffs, batch = await asyncio.to_thread(self._settings, now)
        deadline = time.monotonic() + self._budget_s
        pruned: dict[str, int] = {}
        for prune in PRUNES:
            total = 0
            while time.monotonic() < deadline:
                started = time.monotonic()
                deleted = await asyncio.to_thread(self._batch, prune, cutoffs[prune.table], batch)
                total += deleted
                if deleted < batch:
                    break
                # rest as long as the batch took (at most half the database's time goes to pruning),
                # so its WAL and disk writes never crowd out the enqueues' commits
                await asyncio.sleep(max(self._pause_s, time.monotonic() - started))
            pruned[prune.table] = total
        if any(pruned.values()):
            log.info("retention pruned %s", ", ".join(f"{n} {t}" for t, n in pruned.items() if n))
        return pruned

    def _settings(self, now: datetime) -> tuple[dict[str, datetime], int]:
        with self._sessions() as session:
            cutoffs = {p.table: now - timedelta(days=read_int(session, p.days_key)) for p in PRUNES}
            return cutoffs, read_int(session, "retention.batch_rows")

    def _batch(self, prune: Prune, cutoff: datetime, batch: int) -> int:
        with self._sessions() as session, session.begin():
            result = session.execute(text(prune.sql), {"cutoff": cutoff, "n": batch})
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
