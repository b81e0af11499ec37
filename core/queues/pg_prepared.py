"""One prepared statement run straight through libpq (psycopg's ``pq`` layer), for the single-job
ledger INSERT on the pickup-latency path.

Why: ``AsyncConnection.execute`` runs a statement through the connection lock, a cursor, psycopg's
generator protocol, its async wait and result processing; on a machine whose idle vCPUs halt every
layer a woken process runs through costs tens of microseconds. Measured (an ad-hoc script, one
durable one-row INSERT every 20 ms, 400 each way, interleaved, on uvloop): 0.95-1.01 ms through
``pq`` against 1.35-1.51 ms through ``execute``. Here the statement is PREPAREd once per connection
(through psycopg), then each call is one ``send_query_prepared`` with its values in text format and
a reader callback on the socket until libpq has the whole answer.

Only for statements on a connection nobody else uses meanwhile (the ledger writer's kept
connection, while it is marked busy), in autocommit mode, with parameters of the plain types
:func:`text_params` knows; anything else goes through ``execute``. A connection this path leaves
in doubt (an error mid-way, a cancelled caller) is handed back to the pool, which discards a
connection that is not idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import pq

__all__ = ["PreparedStatements", "text_params"]

_NAMES = itertools.count(1)


def text_params(params: Sequence[Any]) -> list[bytes | None] | None:
    """``params`` as libpq text-format values, or None when one is of a type this path does not send
    (the caller then uses psycopg's adapters)."""
    out: list[bytes | None] = []
    for value in params:
        kind = type(value)
        if value is None:
            out.append(None)
        elif kind is str:
            out.append(value.encode())
        elif kind is int:
            out.append(str(value).encode())
        elif kind is datetime and value.tzinfo is not None:
            out.append(value.isoformat().encode())
        else:
            return None
    return out


def dollar_placeholders(statement: str) -> str:
    """``%s`` placeholders numbered ``$1, $2, ...`` (the statements here contain no other ``%``)."""
    parts = statement.split("%s")
    if any("%" in part for part in parts):
        raise ValueError("statement has a % that is not a %s placeholder")
    return "".join(f"{part}${i}" if i < len(parts) else part for i, part in enumerate(parts, 1))


class PreparedStatements:
    """Prepared statements by text on one connection at a time; runs them through libpq."""

    def __init__(self) -> None:
        self._names: dict[str, bytes] = {}
        # what is prepared on the connection used last (the writer's kept connection: it changes only
        # when one is replaced, and a plain attribute is cheaper per call than a weak-keyed map)
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._done: set[bytes] = set()

    async def affected(self, conn: psycopg.AsyncConnection[Any], statement: str, values: list[bytes | None],
                       meanwhile: Callable[[], None] | None = None) -> int:
        """Run ``statement`` (``%s`` placeholders) with ``values`` on ``conn``; rows written.
        Raises the psycopg error class of the server's SQLSTATE (UniqueViolation...), or
        OperationalError when the connection failed. ``meanwhile`` (which must not raise) is called
        once, as soon as the statement is on its way: the caller's next step is prepared while the
        server works, instead of after its answer."""
        name = self._names.get(statement)
        if name is None:
            name = self._names[statement] = f"integramon_stmt_{next(_NAMES)}".encode()
        if conn is not self._conn:
            self._conn, self._done = conn, set()
        if name not in self._done:
            await _prepare(conn, name, statement)
            self._done.add(name)
        try:
            return await _run(conn, name, values, meanwhile)
        except psycopg.errors.InvalidSqlStatementName:  # dropped meanwhile (DISCARD ALL): nothing ran
            await _prepare(conn, name, statement)
            return await _run(conn, name, values, None)


async def _prepare(conn: psycopg.AsyncConnection[Any], name: bytes, statement: str) -> None:
    """PREPARE on ``conn``; one there already (a connection that served before, kept again) is the same."""
    with contextlib.suppress(psycopg.errors.DuplicatePreparedStatement):
        await conn.execute(f"PREPARE {name.decode()} AS {dollar_placeholders(statement)}".encode())


async def _run(conn: psycopg.AsyncConnection[Any], name: bytes, values: list[bytes | None],
               meanwhile: Callable[[], None] | None) -> int:
    pgconn = conn.pgconn
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        raise psycopg.OperationalError(f"connection not idle (transaction status {pgconn.transaction_status})")
    pgconn.send_query_prepared(name, values, None)
    loop = asyncio.get_running_loop()
    if pgconn.flush():  # not all sent yet (a non-blocking connection): wait until the socket takes it
        await _ready(loop, pgconn, write=True)
    if meanwhile is not None:
        meanwhile()
    if pgconn.is_busy():
        await _ready(loop, pgconn, write=False)
    result = None
    while (next_result := pgconn.get_result()) is not None:
        result = result or next_result
    if result is None:
        raise psycopg.OperationalError("no result from the server")
    if result.status == pq.ExecStatus.COMMAND_OK:
        return int(result.command_tuples or 0)
    raise _error(result, conn)


async def _ready(loop: asyncio.AbstractEventLoop, pgconn: pq.abc.PGconn, *, write: bool) -> None:
    """Until libpq has sent everything (``write``) or holds the whole answer."""
    fd = pgconn.socket
    waiter: asyncio.Future[None] = loop.create_future()

    def on_event() -> None:
        try:
            if write:
                if not pgconn.flush():
                    waiter.set_result(None)
                return
            pgconn.consume_input()
            if not pgconn.is_busy():
                waiter.set_result(None)
        except Exception as exc:  # the connection failed (OperationalError from libpq)
            if not waiter.done():
                waiter.set_exception(exc)

    (loop.add_writer if write else loop.add_reader)(fd, on_event)
    try:
        await waiter
    finally:
        (loop.remove_writer if write else loop.remove_reader)(fd)


def _error(result: pq.abc.PGresult, conn: psycopg.AsyncConnection[Any]) -> psycopg.Error:
    """The psycopg exception class psycopg itself would raise for this failed result."""
    encoding = conn.info.encoding
    state = (result.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()
    primary = result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or result.error_message or b"statement failed"
    message = primary.decode(encoding, "replace").strip()
    try:
        cls = psycopg.errors.lookup(state)
    except KeyError:
        cls = psycopg.DatabaseError
    return cls(message)
