"""Engine and session factories. One engine per process, created by the entry point and passed down.

SQLAlchemy is imported inside the factories, not at the top: a worker whose jobs never touch the ORM
(the ledger and schema check speak psycopg directly) does not load it at all (start-up and memory).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["create_db_engine", "dialect_of", "make_session_factory", "normalise_url", "psycopg_dsn"]


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def dialect_of(url: str) -> str:
    """The database kind of a SQLAlchemy URL (``postgresql``, ``sqlite``), read without SQLAlchemy."""
    scheme = url.split("://", 1)[0] if "://" in url else url.split(":", 1)[0]
    name = scheme.split("+", 1)[0].lower()
    return "postgresql" if name == "postgres" else name


def psycopg_dsn(url: str) -> str:
    """The libpq URI for a PostgreSQL SQLAlchemy URL: the same URI without the ``+driver`` part
    (both percent-encode user and password the same way)."""
    if dialect_of(url) != "postgresql" or "://" not in url:
        raise ValueError("not a PostgreSQL URL")
    return "postgresql://" + url.split("://", 1)[1]


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
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

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
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)
