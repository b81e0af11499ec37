"""Database write pressure, sampled from PostgreSQL's statistics views (or a write-lock probe on SQLite).

PostgreSQL's counters (commits, rows written, WAL position) only ever grow, so a rate needs two
samples: :class:`DatabaseSampler` keeps the previous counters and reports per-second rates from the
second sample on. SQLite has no statistics views and one writer at a time; what limits it is how long
a writer waits for the lock, so the sampler measures exactly that with ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, text

__all__ = ["DatabasePressure", "DatabaseSampler"]

SLOW_STATEMENT_S = 1.0


class DatabasePressure(msgspec.Struct, frozen=True, kw_only=True):
    """One sample; rates are None on the first sample (no previous counters) and on SQLite."""

    dialect: str
    commits_per_s: float | None = None
    rows_written_per_s: float | None = None
    wal_bytes_per_s: float | None = None
    lock_waits: int | None = None  # sessions waiting on a lock right now
    active_connections: int | None = None
    max_connections: int | None = None
    slow_statements: int | None = None  # statements running longer than SLOW_STATEMENT_S
    write_lock_wait_ms: float | None = None  # SQLite: time to take the write lock

    @property
    def connection_use(self) -> float | None:
        if self.active_connections is None or not self.max_connections:
            return None
        return self.active_connections / self.max_connections


_PG_COUNTERS = text("""
select xact_commit, tup_inserted + tup_updated + tup_deleted, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')
from pg_stat_database where datname = current_database()
""")
_PG_NOW = text(f"""
select count(*) filter (where wait_event_type = 'Lock'),
       (select count(*) from pg_stat_activity),
       current_setting('max_connections')::int,
       count(*) filter (where state = 'active' and now() - query_start > interval '{SLOW_STATEMENT_S:g} seconds')
from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
""")


class DatabaseSampler:
    """Samples one engine's database; keep one instance to get rates."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._previous: tuple[float, tuple[float, float, float]] | None = None

    def sample(self) -> DatabasePressure:
        with self._engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                return self._postgresql(conn)
            return _sqlite(conn)

    def _postgresql(self, conn: Connection) -> DatabasePressure:
        now = time.monotonic()
        commits, rows, wal = (float(v) for v in conn.execute(_PG_COUNTERS).one())
        lock_waits, active, max_conn, slow = conn.execute(_PG_NOW).one()
        rates: dict[str, Any] = {}
        if self._previous is not None:
            then, (c0, r0, w0) = self._previous
            seconds = max(now - then, 1e-3)
            rates = {"commits_per_s": max(0.0, commits - c0) / seconds,
                     "rows_written_per_s": max(0.0, rows - r0) / seconds,
                     "wal_bytes_per_s": max(0.0, wal - w0) / seconds}
        self._previous = (now, (commits, rows, wal))
        return DatabasePressure(dialect="postgresql", lock_waits=int(lock_waits), active_connections=int(active),
                                max_connections=int(max_conn), slow_statements=int(slow), **rates)


def _sqlite(conn: Connection) -> DatabasePressure:
    started = time.monotonic()
    conn.exec_driver_sql("BEGIN IMMEDIATE")
    waited = (time.monotonic() - started) * 1000
    conn.exec_driver_sql("ROLLBACK")
    return DatabasePressure(dialect="sqlite", write_lock_wait_ms=waited)
