"""Enqueue's ledger writes on PostgreSQL, straight through a small psycopg async connection pool.

Why not the SQLAlchemy session every other ledger write uses: an enqueue is one statement, and
running it through ``asyncio.to_thread`` + a session + BEGIN/COMMIT cost about 3 ms per call where
the statement itself takes 0.15 ms; pickup latency (enqueue call -> job start) is mostly that. Here
an autocommit connection runs the one statement on the event loop: the INSERT commits when
``execute`` returns (psycopg waits for the server's ReadyForQuery, after the commit), so the ledger
row is durable before the caller pushes the job to Redis, exactly as before.

The statement text and its parameters are built by :mod:`core.queues.enqueue`; this module only runs
them. The pool connects on first use (a process that never enqueues opens no connection). One of its
connections is kept out of it while free, for statement after statement: lending and taking back
cost more than a tenth of a pickup; a statement that finds it busy (a big batch's second chunk, a
concurrent enqueue) borrows a pooled one as before. A
connection idle for longer than ``CHECK_IDLE_S`` is checked (an empty query) before it is lent, so
one broken by a database restart since is replaced instead of failing an enqueue, and a write is
never retried blindly (a retried INSERT whose first commit went through would find its own row and
report the job as held). A connection in steady use skips that round trip: it is 0.1-0.3 ms, a good
share of a 1.5 ms pickup budget. An outage answers ServiceUnavailable naming PostgreSQL, after
waiting at most ``WAIT_S`` for a connection.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from core.db.session import psycopg_dsn
from core.errors import ServiceUnavailable
from core.queues.pg_prepared import PreparedStatements, text_params
from core.urls import mask_text

__all__ = ["POOL_SIZE", "WAIT_S", "PgLedgerWriter", "libpq_dsn"]

POOL_SIZE = 2  # connections at most per process: the 2 parallel chunk inserts of a big batch (counted in
# the connection budget of the API and the controller: docs/sizing.md, Terraform's db_budget module)
CHECK_IDLE_S = 1.0  # a connection unused for longer is checked before use
WAIT_S = 3.0  # longest an enqueue waits for a connection before saying the database is unavailable
# psycopg_pool doubles its reconnect delay without a ceiling; ending a series of attempts after a few
# seconds caps it: the next enqueue starts a new series at once, whatever the outage's length
_RECONNECT_S = 8.0


def libpq_dsn(url: str) -> str:
    """``postgresql+psycopg://…`` (SQLAlchemy's spelling) as a URL libpq accepts (one home:
    :func:`core.db.session.psycopg_dsn`, which the ledger recorder uses too)."""
    return psycopg_dsn(url)


class PgLedgerWriter:
    """Runs enqueue's ledger statements on a lazily opened pool of autocommit connections."""

    def __init__(self, dsn: str, size: int = POOL_SIZE) -> None:
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            dsn, min_size=1, max_size=size, open=False, timeout=WAIT_S, reconnect_timeout=_RECONNECT_S,
            kwargs={"autocommit": True, "prepare_threshold": 1},
            check=self._check, reset=self._returned, name="enqueue-ledger")
        self._opened = False
        self._last_used: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = weakref.WeakKeyDictionary()
        # One pooled connection is kept out for this process's statements while it is free: lending
        # and taking back a connection costs 0.13-0.17 ms per statement at an enqueue every 2-20 ms
        # (the pool's lock, check and return task), a tenth of a pickup. It counts in POOL_SIZE.
        self._kept: psycopg.AsyncConnection[Any] | None = None
        self._kept_busy = False
        self._kept_used = 0.0
        # on the kept connection, a statement that returns no rows and has positional parameters of
        # plain types runs prepared, through libpq (0.4 ms less per call on an idle machine)
        self._statements = PreparedStatements()

    async def _check(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Raises when an idle connection is broken (the pool then discards it and lends another)."""
        last = self._last_used.get(conn)
        if last is None or time.monotonic() - last > CHECK_IDLE_S:
            await AsyncConnectionPool.check_connection(conn)

    async def _returned(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._last_used[conn] = time.monotonic()

    async def _open(self) -> None:
        if not self._opened:
            # the pool logs every failed reconnect; the callers' outage logs say it once per outage instead
            logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
            self._opened = True
            await self._pool.open(wait=False)

    async def returning(self, statement: str, params: dict[str, Any]) -> list[Any]:
        """Run one autocommit statement; the first column of every row it returns."""
        rows, _count = await self._run(statement, params, fetch=True)
        return rows

    async def affected(self, statement: str, params: dict[str, Any] | Sequence[Any], *,
                       conflict_writes_nothing: bool = False, meanwhile: Callable[[], None] | None = None) -> int:
        """Run one autocommit statement; how many rows it wrote (no rows travel back: cheaper than
        RETURNING when the caller only needs to know whether its one row went in).
        ``conflict_writes_nothing``: a unique violation counts as 0 rows written (what ON CONFLICT DO
        NOTHING would have answered, for an INSERT that leaves that clause out). ``meanwhile`` (must
        not raise) is called once the statement is sent, while the server works, when it runs on the
        libpq path (core.queues.pg_prepared); elsewhere it is not called at all."""
        try:
            _rows, count = await self._run(statement, params, fetch=False, meanwhile=meanwhile)
        except psycopg.errors.UniqueViolation:
            if not conflict_writes_nothing:
                raise
            return 0
        return count

    async def execute(self, statement: str, params: dict[str, Any] | Sequence[Any]) -> None:
        """Run one autocommit statement that returns nothing."""
        await self._run(statement, params, fetch=False)

    async def _run(self, statement: str, params: dict[str, Any] | Sequence[Any], *,
                   fetch: bool, meanwhile: Callable[[], None] | None = None) -> tuple[list[Any], int]:
        """On the kept connection when it is free (a lone enqueue, the common case), else on a pooled one."""
        await self._open()
        try:
            if self._kept_busy:  # another statement of this process is on it: a big batch's second chunk
                async with self._pool.connection() as conn:
                    return await _statement(conn, statement, params, fetch)
            self._kept_busy = True
            try:
                conn = await self._kept_connection()
                try:
                    values = None if fetch or isinstance(params, dict) else text_params(params)
                    if values is not None:  # straight through libpq (core.queues.pg_prepared)
                        count = await self._statements.affected(conn, statement, values, meanwhile)
                        rows: tuple[list[Any], int] = ([], count)
                    else:
                        rows = await _statement(conn, statement, params, fetch)
                except BaseException:
                    await self._give_back()  # the pool discards it if the error broke it
                    raise
                self._kept_used = time.monotonic()
                return rows
            finally:
                self._kept_busy = False
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise _unavailable(exc) from exc

    async def _kept_connection(self) -> psycopg.AsyncConnection[Any]:
        """The connection kept out of the pool, checked (an empty query) when idle for over
        ``CHECK_IDLE_S``: one a database restart broke is handed back and replaced before it is used."""
        conn = self._kept
        if conn is not None and time.monotonic() - self._kept_used > CHECK_IDLE_S:
            try:
                await AsyncConnectionPool.check_connection(conn)
            except psycopg.Error:
                await self._give_back()
                conn = None
        if conn is None:
            conn = self._kept = await self._pool.getconn()
        return conn

    async def _give_back(self) -> None:
        conn, self._kept = self._kept, None
        if conn is not None:
            await self._pool.putconn(conn)

    async def close(self) -> None:
        if self._opened:
            await self._give_back()
            await self._pool.close()


async def _statement(conn: psycopg.AsyncConnection[Any], statement: str, params: dict[str, Any] | Sequence[Any],
                     fetch: bool) -> tuple[list[Any], int]:
    """The first column of each returned row (when ``fetch``) and the rows the statement wrote."""
    cursor = await conn.execute(statement.encode(), params)
    return ([row[0] for row in await cursor.fetchall()] if fetch else []), cursor.rowcount


def _unavailable(exc: Exception) -> ServiceUnavailable:
    from core.outage import DATABASE  # only on this error path: core.outage imports SQLAlchemy

    return ServiceUnavailable(f"PostgreSQL unavailable, jobs not enqueued: {mask_text(str(exc))}", dependency=DATABASE)
