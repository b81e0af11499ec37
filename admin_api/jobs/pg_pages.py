"""The hot path of ``GET /api/v1/jobs`` on PostgreSQL: one round trip that returns the page as JSON text.

The ledger search is the API's busiest call. Going through the sync ORM costs a thread hop, a pool
ping, BEGIN/ROLLBACK and per-row Python conversion; here a few autocommit async connections run one
(auto-prepared) statement whose result is already the JSON of the page, so Python only concatenates
bytes. Other databases (SQLite) use :func:`admin_api.jobs.queries.search_runs`.

The connections live in a ``psycopg_pool.AsyncConnectionPool``: it opens them in the background
(the API starts while the database is down), drops a connection that broke, and reconnects with
backoff (a series of attempts ends after a few seconds and the next request starts a new one, so the
pool never sleeps long after a long outage). A request during an outage gets ServiceUnavailable
(503 naming PostgreSQL); the first failure also asks the pool to check its idle connections, and a
query that failed on a connection broken by a past outage is tried once more on a fresh one, so
pages answer 200 again as soon as the database does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from admin_api.jobs.queries import SUMMARY_COLUMNS, encode_cursor
from admin_api.jobs.schemas import RunFilter
from core.errors import ServiceUnavailable
from core.outage import DATABASE

__all__ = ["FRESH_S", "PgLedgerPages"]

FRESH_S = 0.25  # how long an identical ledger page may be served again without a new query
_MAX_FRESH = 512
_WAIT_S = 3.0  # longest a request waits for a connection before answering 503
# psycopg_pool doubles its reconnect delay without a ceiling; giving up a series of attempts after a
# few seconds caps it: the next request (or check) starts a new series at once, whatever the outage's length
_RECONNECT_S = 8.0

_FIELDS = SUMMARY_COLUMNS  # (JSON key, column): RunSummary's fields, like the ORM path

_PAGE = """
WITH hit AS (
  SELECT *, row_number() OVER (ORDER BY enqueued_at DESC, id DESC) AS n
  FROM (SELECT {columns} FROM worker_job_run WHERE {where} ORDER BY enqueued_at DESC, id DESC LIMIT %(fetch)s) AS x
)
SELECT coalesce(json_agg(json_build_object({pairs}) ORDER BY n) FILTER (WHERE n <= %(limit)s), '[]')::text,
       count(*) > %(limit)s,
       max(enqueued_at) FILTER (WHERE n = %(limit)s),
       max(id) FILTER (WHERE n = %(limit)s)
FROM hit
"""


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _where(flt: RunFilter) -> tuple[tuple[str, ...], sql.Composable, dict[str, Any]]:
    """The WHERE clause, its parameters, and its shape (which filters are set: the statement cache key)."""
    parts: list[sql.Composable] = [sql.SQL("TRUE")]
    params: dict[str, Any] = {"limit": flt.limit, "fetch": flt.limit + 1}
    for column, value in (("queue", flt.queue), ("function", flt.function), ("tenant_id", flt.tenant_id)):
        if value is not None:
            parts.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)))
            params[column] = value
    if len(flt.statuses) == 1:  # equality keeps the (status, enqueued_at) index order: no sort
        parts.append(sql.SQL("status = %(status)s"))
        params["status"] = flt.statuses[0]
    elif flt.statuses:
        parts.append(sql.SQL("status = ANY(%(statuses)s)"))
        params["statuses"] = list(flt.statuses)
    if flt.since:
        parts.append(sql.SQL("enqueued_at >= %(since)s"))
        params["since"] = _utc(flt.since)
    if flt.until:
        parts.append(sql.SQL("enqueued_at < %(until)s"))
        params["until"] = _utc(flt.until)
    if flt.cursor:
        parts.append(sql.SQL("(enqueued_at, id) < (%(c_at)s, %(c_id)s)"))
        params["c_at"], params["c_id"] = flt.cursor
    shape = tuple(sorted(k for k in params if k not in ("limit", "fetch")))
    return shape, sql.SQL(" AND ").join(parts), params


def _statement(where: sql.Composable) -> sql.Composed:
    columns = sql.SQL(", ").join(sql.Identifier(c) for _, c in _FIELDS)
    pairs = sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(k), sql.Identifier(c)) for k, c in _FIELDS)
    return sql.SQL(_PAGE).format(columns=columns, where=where, pairs=pairs)


def _retrieved(task: asyncio.Future[bytes]) -> None:
    """Mark a refresh's failure as seen: a refresh ahead that nobody awaited must not log it as lost."""
    if not task.cancelled():
        task.exception()


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    await conn.execute("SET TIME ZONE 'UTC'")  # JSON timestamps as +00:00, like the rest of the API


class PgLedgerPages:
    """A small connection pool and a page cache (no module state: one instance per app, opened in its lifespan)."""

    def __init__(self, dsn: str, size: int = 4) -> None:
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            dsn, min_size=size, max_size=size, open=False, timeout=_WAIT_S, reconnect_timeout=_RECONNECT_S,
            kwargs={"autocommit": True, "prepare_threshold": 1}, configure=_configure, name="ledger-pages")
        self._statements: dict[tuple[str, ...], bytes] = {}  # at most 2^7 filter shapes
        self._fresh: dict[tuple[Any, ...], tuple[float, bytes]] = {}
        self._inflight: dict[tuple[Any, ...], asyncio.Future[bytes]] = {}
        self._generation = 0  # bumped by forget(): a query started before a change is not reused

    async def open(self) -> None:
        """Start connecting in the background; the API serves (503 for pages) until the database answers."""
        # the pool logs every failed reconnect; the API's dependency watch says it once per outage instead
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    async def page(self, flt: RunFilter) -> bytes:
        """``{"items": [...], "next_cursor": ...}`` as JSON bytes.

        Identical searches arriving together share one query, and its answer is reused for
        ``FRESH_S``: a console polled by many operators (or a dashboard) then costs the database one
        query per page and interval instead of one per viewer. A page is at most that much older.
        Once a reused page is past half its life, the next request starts its refresh in the
        background and still gets the reused page: callers wait for a query only when nothing
        fresh is at hand. (Before, every expiry made all concurrent callers of that page wait for
        one query together, a few per cent of requests at 1,000+ req/s: bench.api's p99 tail.)
        """
        shape, where, params = _where(flt)
        key = (shape, tuple(str(params[k]) for k in sorted(params)))
        now = time.monotonic()
        cached = self._fresh.get(key)
        if cached is not None and cached[0] > now:
            if cached[0] - now < FRESH_S / 2 and key not in self._inflight:
                self._start(key, shape, where, params)  # refresh ahead; this caller keeps the reused page
            return cached[1]
        running = self._inflight.get(key) or self._start(key, shape, where, params)
        return await asyncio.shield(running)

    def forget(self) -> None:
        """Drop reused pages and queries under way (called after a change made through this API)."""
        self._fresh.clear()
        self._inflight.clear()
        self._generation += 1

    def _start(self, key: tuple[Any, ...], shape: tuple[str, ...], where: sql.Composable,
               params: dict[str, Any]) -> asyncio.Future[bytes]:
        task = asyncio.ensure_future(self._refresh(key, shape, where, params, time.monotonic(), self._generation))
        self._inflight[key] = task
        task.add_done_callback(_retrieved)
        return task

    async def _refresh(self, key: tuple[Any, ...], shape: tuple[str, ...], where: sql.Composable,
                       params: dict[str, Any], started: float, generation: int) -> bytes:
        try:
            body = await self._query(shape, where, params)
        finally:
            if generation == self._generation:
                self._inflight.pop(key, None)
        if generation != self._generation:  # a change was made meanwhile: this page may predate it
            return body
        if len(self._fresh) >= _MAX_FRESH:
            self._fresh = {k: v for k, v in self._fresh.items() if v[0] > started}
            if len(self._fresh) >= _MAX_FRESH:
                self._fresh.clear()
        self._fresh[key] = (started + FRESH_S, body)
        return body

    async def _query(self, shape: tuple[str, ...], where: sql.Composable, params: dict[str, Any]) -> bytes:
        statement = self._statements.get(shape)
        if statement is None:
            statement = self._statements[shape] = _statement(where).as_bytes(None)
        try:
            row = await self._fetch(statement, params)
        except psycopg.OperationalError:
            await self._pool.check()  # drop every idle connection the outage broke, then try once more
            try:
                row = await self._fetch(statement, params)
            except psycopg.OperationalError as exc:
                raise ServiceUnavailable(f"{DATABASE} query failed: {exc}", dependency=DATABASE) from exc
        assert row is not None
        items: str = row[0]
        more, last_at, last_id = row[1], row[2], row[3]
        cursor = f'"{encode_cursor(last_at, last_id)}"' if more and last_at is not None else "null"
        return b'{"items":' + items.encode() + b',"next_cursor":' + cursor.encode() + b"}"

    async def _fetch(self, statement: bytes, params: dict[str, Any]) -> tuple[Any, ...] | None:
        try:
            async with self._pool.connection() as conn:
                return await (await conn.execute(statement, params)).fetchone()
        except PoolTimeout as exc:
            raise ServiceUnavailable(f"{DATABASE} not reachable: no connection within {_WAIT_S:g} s",
                                     dependency=DATABASE) from exc
