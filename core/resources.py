"""The connections a process needs (database engine, Redis, enqueuer), opened once and passed down.

Only Redis is opened at start. The SQLAlchemy engine, its session factory and the enqueuer are made
on first use: a worker whose jobs never touch the ORM (the ledger writes through psycopg, the schema
check reads ``alembic_version`` directly) then never imports SQLAlchemy, which was most of its
start-up time and memory. Families that use the ORM pay for it when their first job runs.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.closing import close_within
from core.db.schema import require_current_schema_at, schema_if_reachable
from core.db.session import create_db_engine, make_session_factory, normalise_url
from core.errors import ServiceUnavailable
from core.outage import DATABASE, REDIS
from core.queues.wire import pack_with_hiredis
from core.settings import Settings
from core.urls import mask_text, mask_url

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from core.cpi.tenants import TenantClients
    from core.queues.enqueue import Enqueuer

__all__ = ["Resources", "check_database", "check_redis", "open_resources"]

# First uses may race from worker threads (asyncio.to_thread): one engine per process, never two. A module
# lock, not a field: the API's request signatures convert Resources' fields and cannot type a lock.
_LAZY_LOCK = threading.Lock()


@dataclass(slots=True)
class Resources:
    """One process's shared clients. The lazily made ones are typed loosely on purpose: the API's request
    signatures resolve this dataclass's field annotations at run time, and naming SQLAlchemy or
    TenantClients types here would import them into every process."""

    settings: Settings
    redis: Redis
    pool_size: int = 5
    direct_enqueue: bool = True
    _engine: object = field(default=None, repr=False)
    _sessions: object = field(default=None, repr=False)
    _enqueuer: object = field(default=None, repr=False)
    _cpi: object = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        """The process's SQLAlchemy engine, created on first use (the pool sizes are the role's)."""
        if self._engine is None:
            with _LAZY_LOCK:
                if self._engine is None:
                    self._engine = create_db_engine(self.settings.resolved_database_url, pool_size=self.pool_size,
                                                    max_overflow=self.settings.db_max_overflow)
        return cast("Engine", self._engine)

    @property
    def sessions(self) -> sessionmaker[Session]:
        """ORM sessions on :attr:`engine`, the factory made on first use."""
        if self._sessions is None:
            engine = self.engine
            with _LAZY_LOCK:
                if self._sessions is None:
                    self._sessions = make_session_factory(engine)
        return cast("sessionmaker[Session]", self._sessions)

    @property
    def enqueuer(self) -> Enqueuer:
        """This process's enqueuer, made on first use (a worker only needs one when a job enqueues).
        With ``direct_enqueue`` it writes the ledger through its own small psycopg pool on PostgreSQL."""
        if self._enqueuer is None:
            from core.queues.enqueue import Enqueuer
            from core.secrets import SecretBox

            sessions = self.sessions
            direct_url = normalise_url(self.settings.resolved_database_url) if self.direct_enqueue else None
            with _LAZY_LOCK:
                if self._enqueuer is None:
                    self._enqueuer = Enqueuer(self.redis, sessions, SecretBox(self.settings).encrypt_bytes,
                                              database_url=direct_url)
        return cast("Enqueuer", self._enqueuer)

    async def close_enqueuer(self) -> None:
        """Close the enqueuer's own connections, when it was ever made."""
        enqueuer, self._enqueuer = self._enqueuer, None
        if enqueuer is not None:
            await cast("Enqueuer", enqueuer).aclose()

    @property
    def cpi(self) -> TenantClients:
        """This process's CPI clients, one per tenant, made on first use (only CPI-facing processes pay)."""
        if self._cpi is None:
            from core.cpi.tenants import TenantClients  # here, not at the top: keeps httpx out of other processes
            from core.secrets import SecretBox

            self._cpi = TenantClients(SecretBox(self.settings), redis=self.redis, sessions=self.sessions)
        return cast("TenantClients", self._cpi)

    async def close_cpi(self) -> None:
        if self._cpi is not None:
            await self.cpi.aclose()
            self._cpi = None

    def dispose_engine(self) -> None:
        """Close the engine's pooled connections, when the engine was ever made."""
        engine, self._engine, self._sessions = self._engine, None, None
        if engine is not None:
            cast("Engine", engine).dispose()


async def check_redis(redis: Redis, url: str) -> None:
    try:
        await redis.ping()
    except (RedisError, OSError) as exc:
        raise ServiceUnavailable(f"Redis not reachable at {mask_url(url)}: {mask_text(str(exc))}",
                                 dependency=REDIS) from exc


def check_database(engine: Engine) -> None:
    """``select 1`` through ``engine``: ServiceUnavailable naming the (masked) URL when it does not answer."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as exc:
        raise ServiceUnavailable(
            f"database not reachable ({mask_url(engine.url.render_as_string())}): {mask_text(str(exc.orig))}",
            dependency=DATABASE) from exc


@asynccontextmanager
async def open_resources(settings: Settings, *, pool_size: int = 5, check: bool = True,
                         direct_enqueue: bool = True) -> AsyncIterator[Resources]:
    """Open and check Redis and the database (reachable, schema as new as this code); close both on exit.

    ``pool_size`` is the role's default; ``INTEGRAMON_DB_POOL_SIZE`` / ``INTEGRAMON_DB_MAX_OVERFLOW`` override it.
    ``check=False`` is for a server that must start while a dependency is down and answer 503 until
    it returns (the admin API): both clients connect lazily and reconnect by themselves; the schema
    is still checked when the database answers at start. ``direct_enqueue`` gives the enqueuer its own
    small psycopg pool on PostgreSQL (fast enqueue for producers, up to ``pg_ledger.POOL_SIZE`` more
    connections, opened on first enqueue); a worker process turns it off to stay inside its
    connection budget (docs/sizing.md), its jobs' follow-up enqueues then use the SQLAlchemy pool.
    """
    size = pool_size if settings.db_pool_size is None else settings.db_pool_size
    redis = pack_with_hiredis(Redis.from_url(settings.redis_url))  # before its first connection
    resources = Resources(settings, redis, pool_size=size, direct_enqueue=direct_enqueue)
    try:
        if check:
            await check_redis(redis, settings.redis_url)
            require_current_schema_at(settings.resolved_database_url)  # also: is it reachable at all
        else:
            schema_if_reachable(settings.resolved_database_url)
        try:
            yield resources
        finally:
            try:
                await close_within("CPI clients", resources.close_cpi())
            finally:
                await close_within("enqueue ledger pool", resources.close_enqueuer())
    finally:
        await close_within("Redis client", redis.aclose())
        resources.dispose_engine()
