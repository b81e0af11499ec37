"""The connections a process needs (database engine, Redis, enqueuer), opened once and passed down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.db.migrate import require_current_schema
from core.db.session import create_db_engine, make_session_factory
from core.errors import ServiceUnavailable
from core.outage import DATABASE, REDIS
from core.queues.enqueue import Enqueuer
from core.queues.wire import pack_with_hiredis
from core.secrets import SecretBox
from core.settings import Settings
from core.urls import mask_text, mask_url

if TYPE_CHECKING:
    from core.cpi.tenants import TenantClients

__all__ = ["Resources", "check_database", "check_redis", "open_resources"]


@dataclass(slots=True)
class Resources:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: Redis
    enqueuer: Enqueuer
    # typed loosely on purpose: the API's request signatures resolve this dataclass's annotations at run
    # time, and naming TenantClients here would import httpx into every process
    _cpi: object = field(default=None, repr=False)

    @property
    def cpi(self) -> TenantClients:
        """This process's CPI clients, one per tenant, made on first use (only CPI-facing processes pay)."""
        if self._cpi is None:
            from core.cpi.tenants import TenantClients  # here, not at the top: keeps httpx out of other processes

            self._cpi = TenantClients(SecretBox(self.settings), redis=self.redis, sessions=self.sessions)
        return cast("TenantClients", self._cpi)

    async def close_cpi(self) -> None:
        if self._cpi is not None:
            await self.cpi.aclose()
            self._cpi = None


async def check_redis(redis: Redis, url: str) -> None:
    try:
        await redis.ping()
    except (RedisError, OSError) as exc:
        raise ServiceUnavailable(f"Redis not reachable at {mask_url(url)}: {mask_text(str(exc))}",
                                 dependency=REDIS) from exc


def check_database(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError as exc:
        raise ServiceUnavailable(
            f"database not reachable ({mask_url(engine.url.render_as_string())}): {mask_text(str(exc.orig))}",
            dependency=DATABASE) from exc


def _schema_if_reachable(engine: Engine) -> None:
    """Refuse an old schema when the database answers; start anyway (and serve 503s) when it does not."""
    try:
        check_database(engine)
    except ServiceUnavailable:
        return
    require_current_schema(engine)


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
    engine = create_db_engine(settings.resolved_database_url, pool_size=size, max_overflow=settings.db_max_overflow)
    redis = pack_with_hiredis(Redis.from_url(settings.redis_url))  # before its first connection
    try:
        if check:
            await check_redis(redis, settings.redis_url)
            check_database(engine)
            require_current_schema(engine)
        else:
            _schema_if_reachable(engine)
        sessions = make_session_factory(engine)
        sealer = SecretBox(settings).encrypt_bytes
        direct_url = engine.url.render_as_string(hide_password=False) if direct_enqueue else None
        enqueuer = Enqueuer(redis, sessions, sealer, database_url=direct_url)
        resources = Resources(settings, engine, sessions, redis, enqueuer)
        try:
            yield resources
        finally:
            try:
                await resources.close_cpi()
            finally:
                await enqueuer.aclose()
    finally:
        await redis.aclose()
        engine.dispose()
