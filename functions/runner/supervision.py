"""One supervision policy for every long-lived helper task of a worker.

A helper (claim loop, ledger flusher, wake-up listener, heartbeat, tuning reload) that raises is never
left dead: a *transient* error (Redis or the database unreachable, a dropped connection) restarts it
after a backoff, however long the outage lasts; an *unexpected* error (a bug) restarts it too, but
after ``max_unexpected`` such failures within ``window_s`` the supervisor escalates: it calls
``on_fatal`` and the worker stops claiming, drains and exits non-zero. A helper that returns has
finished on purpose (a burst claim loop, a fixed-concurrency tuning loop) and is not restarted.

Outages are logged once per dependency: one line when the first helper meets it, one when any
helper reports success again (``Outages.recovered``), not one per retry or per helper.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable

from redis.exceptions import BusyLoadingError, ReadOnlyError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.errors import LedgerError

__all__ = ["DATABASE", "REDIS", "Outages", "Supervisor", "transient_dependency"]

log = logging.getLogger(__name__)

REDIS = "Redis"
DATABASE = "database"

_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, BusyLoadingError, ReadOnlyError)


def _sqlalchemy_disconnect(exc: BaseException) -> bool:
    """SQLAlchemy's errors for a lost database, looked up in ``sys.modules`` instead of imported: a worker
    whose jobs never load the ORM cannot raise them, and should not pay SQLAlchemy's import to ask."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None:
        return False
    if isinstance(exc, sa_exc.OperationalError | sa_exc.DisconnectionError):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


def transient_dependency(exc: BaseException) -> str | None:
    """The dependency whose unavailability ``exc`` shows (``REDIS`` / ``DATABASE``), None for other errors."""
    if isinstance(exc, _REDIS_DOWN):
        return REDIS
    pg = sys.modules.get("psycopg")  # not imported here: a process without psycopg cannot hold its errors
    if (pg is not None and isinstance(exc, pg.OperationalError)) or _sqlalchemy_disconnect(exc):
        return DATABASE
    if isinstance(exc, LedgerError) and exc.__cause__ is not None:
        return transient_dependency(exc.__cause__)
    if isinstance(exc, (ConnectionError, TimeoutError)):  # OSError family: a socket gave up
        return REDIS if "redis" in type(exc).__module__ else "network"
    return None


class Outages:
    """Which dependencies are down right now, logged once at the start and once at the end."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._down: dict[str, float] = {}

    @property
    def down(self) -> list[str]:
        return sorted(self._down)

    def failed(self, dependency: str, exc: BaseException) -> None:
        if dependency not in self._down:
            self._down[dependency] = time.monotonic()
            log.warning("%s: %s unavailable (%s: %s); riding it out with backoff", self._owner, dependency,
                        type(exc).__name__, exc)

    def recovered(self, dependency: str) -> None:
        since = self._down.pop(dependency, None)
        if since is not None:
            log.warning("%s: %s is back after %.1f s", self._owner, dependency, time.monotonic() - since)


class Supervisor:
    """Runs named helper coroutines under the policy of the module docstring."""

    def __init__(self, outages: Outages, on_fatal: Callable[[str, BaseException], None], *,
                 backoff_min_s: float = 0.05, backoff_max_s: float = 2.0,
                 max_unexpected: int = 3, window_s: float = 60.0) -> None:
        self.outages = outages
        self._on_fatal = on_fatal
        self._min = backoff_min_s
        self._max = backoff_max_s
        self._max_unexpected = max_unexpected
        self._window = window_s
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def spawn(self, name: str, helper: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Start ``helper`` (a coroutine function, called again on every restart) under supervision."""
        task = asyncio.get_running_loop().create_task(self._guard(name, helper), name=name)
        self._tasks[name] = task
        return task

    def task(self, name: str) -> asyncio.Task[None] | None:
        return self._tasks.get(name)

    def dead(self) -> list[str]:
        """Helpers whose guard ended although nobody cancelled it (escalated or returned early)."""
        return [n for n, t in self._tasks.items() if t.done() and not t.cancelled()]

    async def cancel(self, *names: str) -> None:
        """Cancel the named helpers (all when none are named) and wait for them to end."""
        tasks = [t for n, t in self._tasks.items() if not names or n in names]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _guard(self, name: str, helper: Callable[[], Awaitable[None]]) -> None:
        delay = self._min
        failures: deque[float] = deque()
        while True:
            began = time.monotonic()
            try:
                await helper()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                now = time.monotonic()
                if now - began > self._max:  # it ran fine for a while: a new incident, start small again
                    delay = self._min
                dependency = transient_dependency(exc)
                if dependency is not None:
                    self.outages.failed(dependency, exc)
                else:
                    failures.append(now)
                    while failures and now - failures[0] > self._window:
                        failures.popleft()
                    if len(failures) > self._max_unexpected:
                        log.error("worker helper %s keeps failing (%d times in %g s); stopping the worker",
                                  name, len(failures), self._window, exc_info=exc)
                        self._on_fatal(name, exc)
                        return
                    log.error("worker helper %s failed unexpectedly; restarting it", name, exc_info=exc)
            await asyncio.sleep(delay * (0.5 + random.random() / 2))
            delay = min(delay * 2, self._max)
