"""Engine and session factories. One engine per process, created by the entry point and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

__all__ = ["create_db_engine", "make_session_factory", "normalise_url"]


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def create_db_engine(url: str, *, pool_size: int = 5, max_overflow: int | None = None,
                     null_pool: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout so several processes can share it.

    A PostgreSQL engine opens at most ``pool_size + max_overflow`` connections (overflow defaults to
    the pool size): that sum is what docs/sizing.md and Terraform's connection budget count per process.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        extra: dict[str, Any] = {"poolclass": NullPool} if null_pool else {}
        engine = create_engine(url, connect_args={"timeout": 15}, **extra)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if null_pool:
        return create_engine(url, poolclass=NullPool)
    overflow = pool_size if max_overflow is None else max_overflow
    return create_engine(url, pool_size=pool_size, max_overflow=overflow, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
