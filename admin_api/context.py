"""What every request handler needs: the open resources, the secret box and the token cache.

One :class:`ApiContext` per app instance, built in the lifespan and kept on ``app.state`` (no
module-level state), handed to handlers through the ``ctx`` dependency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from litestar.di import NamedDependency
from sqlalchemy.orm import Session

from admin_api.jobs.pg_pages import PgLedgerPages
from admin_api.observability.api_stats import ApiStatsBuffer
from core.resources import Resources
from core.secrets import SecretBox
from core.settings import Settings

__all__ = ["ApiContext", "Ctx", "Principal", "TokenCache"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's name (written to the audit log) and its role."""

    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(slots=True)
class TokenCache:
    """Token hash -> principal for a few seconds, so a request does not cost a database round trip.

    A revoked token stops working within ``ttl_s``; the size bound keeps guessed tokens from growing it.
    :meth:`lookup` refreshes an entry ahead of its expiry and lets concurrent callers share one
    lookup: before, all of a client's concurrent requests missed together every ``ttl_s`` and each
    queued a database read behind the few worker threads (measured: up to 100 ms, bench.api's tail).
    """

    ttl_s: float = 5.0
    max_size: int = 1024
    _entries: dict[str, tuple[float, Principal | None]] = field(default_factory=dict)
    _loading: dict[str, asyncio.Future[Principal | None]] = field(default_factory=dict)
    _generation: int = 0  # bumped by clear(): a lookup started before a revocation is not cached

    def get(self, token_hash: str) -> tuple[bool, Principal | None]:
        hit = self._entries.get(token_hash)
        if hit is None or hit[0] < time.monotonic():
            return False, None
        return True, hit[1]

    def clear(self) -> None:
        """Forget every cached principal (after a revocation)."""
        self._entries.clear()
        self._loading.clear()
        self._generation += 1

    def put(self, token_hash: str, principal: Principal | None) -> None:
        if len(self._entries) >= self.max_size:
            self._entries.clear()
        self._entries[token_hash] = (time.monotonic() + self.ttl_s, principal)

    async def lookup(self, token_hash: str, fetch: Callable[[], Awaitable[Principal | None]]) -> Principal | None:
        """The cached principal, else ``fetch()``'s, which concurrent callers for one hash share.

        An entry past half its life is refreshed in the background while callers keep using it, so
        a steady client never waits for the lookup; a revoked token still stops within ``ttl_s``.
        """
        hit = self._entries.get(token_hash)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            if hit[0] - now < self.ttl_s / 2 and token_hash not in self._loading:
                self._start(token_hash, fetch)
            return hit[1]
        running = self._loading.get(token_hash) or self._start(token_hash, fetch)
        return await asyncio.shield(running)

    def _start(self, token_hash: str, fetch: Callable[[], Awaitable[Principal | None]]
               ) -> asyncio.Future[Principal | None]:
        task = asyncio.ensure_future(self._fetch_and_put(token_hash, fetch, time.monotonic(), self._generation))
        self._loading[token_hash] = task
        task.add_done_callback(_retrieved)
        return task

    async def _fetch_and_put(self, token_hash: str, fetch: Callable[[], Awaitable[Principal | None]],
                             started: float, generation: int) -> Principal | None:
        try:
            principal = await fetch()
        finally:
            if generation == self._generation:
                self._loading.pop(token_hash, None)
        if generation == self._generation:
            if len(self._entries) >= self.max_size:
                self._entries.clear()
            self._entries[token_hash] = (started + self.ttl_s, principal)
        return principal


def _retrieved(task: asyncio.Future[Principal | None]) -> None:
    """Mark a failed lookup as seen: a refresh ahead that nobody awaited must not log it as lost."""
    if not task.cancelled():
        task.exception()


@dataclass(slots=True)
class ApiContext:
    """Resources of one app instance."""

    settings: Settings
    resources: Resources
    secrets: SecretBox
    tokens: TokenCache = field(default_factory=TokenCache)
    ledger_pages: PgLedgerPages | None = None  # PostgreSQL fast path of the jobs list
    stats: ApiStatsBuffer = field(default_factory=ApiStatsBuffer)

    async def read(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in a worker thread (DB access is sync SQLAlchemy)."""
        return await asyncio.to_thread(self._read, fn)

    async def write(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in a worker thread inside one transaction."""
        return await asyncio.to_thread(self._write, fn)

    def _read(self, fn: Callable[[Session], T]) -> T:
        with self.resources.sessions() as session:
            return fn(session)

    def _write(self, fn: Callable[[Session], T]) -> T:
        with self.resources.sessions() as session, session.begin():
            return fn(session)


Ctx = NamedDependency[ApiContext]  # handler parameter type: the app's ApiContext, injected as ``ctx``
