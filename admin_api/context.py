"""What every request handler needs: the open resources, the secret box and the token cache.

One :class:`ApiContext` per app instance, built in the lifespan and kept on ``app.state`` (no
module-level state), handed to handlers through the ``ctx`` dependency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
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
    """

    ttl_s: float = 5.0
    max_size: int = 1024
    _entries: dict[str, tuple[float, Principal | None]] = field(default_factory=dict)

    def get(self, token_hash: str) -> tuple[bool, Principal | None]:
        hit = self._entries.get(token_hash)
        if hit is None or hit[0] < time.monotonic():
            return False, None
        return True, hit[1]

    def clear(self) -> None:
        """Forget every cached principal (after a revocation)."""
        self._entries.clear()

    def put(self, token_hash: str, principal: Principal | None) -> None:
        if len(self._entries) >= self.max_size:
            self._entries.clear()
        self._entries[token_hash] = (time.monotonic() + self.ttl_s, principal)


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
