"""Reconciler loop: runs the core reconciliation (core.ledger.reconcile) at start and every minute.

It also recovers waiting runs whose job vanished from Redis (after ``job_vanished_grace_seconds``),
so a Redis data loss frees the poll dedup keys within one reconcile interval, not 45 minutes.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from redis.asyncio import Redis
from sqlalchemy.orm import Session, sessionmaker

from core.ledger.reconcile import ReconcileReport, reconcile

__all__ = ["Reconciler"]

log = logging.getLogger(__name__)


class Reconciler:
    """One ``tick`` = one reconciliation pass with the configured stale-queue timeout."""

    def __init__(self, sessions: sessionmaker[Session], redis: Redis, stale_queue_minutes: float,
                 vanished_grace_s: float | None = None) -> None:
        self._sessions = sessions
        self._redis = redis
        self._stale_after = timedelta(minutes=stale_queue_minutes)
        self._vanished_after = timedelta(seconds=vanished_grace_s) if vanished_grace_s is not None else None

    async def tick(self) -> ReconcileReport:
        report = await reconcile(self._sessions, self._redis, stale_after=self._stale_after,
                                 vanished_after=self._vanished_after)
        if report.skipped or report.retrying:
            log.warning("reconciled %d rows: %d skipped, %d back to retrying",
                        report.skipped + report.retrying, report.skipped, report.retrying)
        return report
