"""Outage bookkeeping: which dependency an error means, and one log line per outage and per recovery.

Loops that retry with backoff call :meth:`OutageLog.failed` on every failed attempt and
:meth:`OutageLog.recovered` after a success. Several callers (a controller's loops) may share one
log: the first failure caused by a dependency opens its outage (one ERROR line naming it), further
failures are counted silently, and the line "… is back after N s" is written when the last caller
that saw it fail has succeeded again. An operator reads two lines per outage, not one per retry.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from core.errors import ServiceUnavailable

__all__ = ["DATABASE", "RABBITMQ", "REDIS", "OutageLog", "backoff_s", "dependency_of"]

REDIS = "Redis"
DATABASE = "PostgreSQL"
RABBITMQ = "RabbitMQ"


def dependency_of(exc: BaseException) -> str | None:
    """The backing service an error comes from (following ``raise … from``), or None for a bug."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ServiceUnavailable) and current.dependency:
            return current.dependency
        if isinstance(current, RedisError):
            return REDIS
        if _psycopg_outage(current) or _sqlalchemy_outage(current):
            return DATABASE
        if type(current).__module__.startswith("pika"):
            return RABBITMQ
        current = current.__cause__ or current.__context__
    return None


def _psycopg_outage(exc: BaseException) -> bool:
    """Whether ``exc`` is psycopg's word for an unreachable database; looked up like SQLAlchemy's below
    (a worker imports psycopg only once it first writes the ledger or checks the schema)."""
    pg = sys.modules.get("psycopg")
    return pg is not None and isinstance(exc, pg.OperationalError)


def _sqlalchemy_outage(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLAlchemy's word for an unreachable database. Looked up in ``sys.modules``
    rather than imported: a process that never loaded SQLAlchemy cannot hold one of its errors, and
    importing it here would put the whole ORM on every process's start-up path."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None:
        return False
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


def backoff_s(failures: int, base_s: float, max_s: float, jitter: float) -> float:
    """Exponential backoff capped at ``max_s``; ``jitter`` in [0, 1) spreads retries of many callers."""
    ceiling = min(max_s, base_s * 2 ** max(0, failures - 1))
    return float(ceiling * (0.5 + jitter / 2))


@dataclass(slots=True)
class _Outage:
    started: float
    callers: set[str] = field(default_factory=set)
    failures: int = 0


class OutageLog:
    """Open/close outages per dependency and log each edge once (not thread-safe: one event loop)."""

    def __init__(self, logger: logging.Logger, owner: str) -> None:
        self._log = logger
        self._owner = owner
        self._open: dict[str, _Outage] = {}
        self._failing: dict[str, str] = {}  # caller -> dependency it last failed on

    @property
    def current(self) -> list[str]:
        """Dependencies this process currently sees down."""
        return sorted(self._open)

    def in_outage(self, caller: str) -> bool:
        """Whether ``caller``'s last attempt failed on a dependency (its outage was logged already)."""
        return caller in self._failing

    def failed(self, caller: str, exc: BaseException) -> str | None:
        """Record a failed attempt; returns the dependency (None when the error is not an outage)."""
        dependency = dependency_of(exc)
        if dependency is None:
            return None
        previous = self._failing.get(caller)
        if previous is not None and previous != dependency:
            self._leave(caller)
        self._failing[caller] = dependency
        outage = self._open.get(dependency)
        if outage is None:
            outage = self._open[dependency] = _Outage(time.monotonic())
            self._log.error("%s: %s unavailable (%s: %s); retrying with backoff", self._owner, dependency,
                            type(exc).__name__, _one_line(exc))
        outage.callers.add(caller)
        outage.failures += 1
        return dependency

    def recovered(self, caller: str) -> None:
        """Record a success of ``caller``; closes the outage when nobody sees it any more."""
        if caller in self._failing:
            self._leave(caller)

    def _leave(self, caller: str) -> None:
        dependency = self._failing.pop(caller)
        outage = self._open.get(dependency)
        if outage is None:
            return
        outage.callers.discard(caller)
        if not outage.callers:
            del self._open[dependency]
            self._log.warning("%s: %s is back after %.1f s (%d failed attempts)", self._owner, dependency,
                              time.monotonic() - outage.started, outage.failures)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""
