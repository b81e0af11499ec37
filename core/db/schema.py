"""Is the database reachable, and is its schema as new as this code? Asked by every starting service.

On PostgreSQL both questions are one short psycopg connection (``alembic_version`` read directly) and
the answer is computed from the migration files by :mod:`core.db.revisions`: neither SQLAlchemy nor
Alembic is imported, which took most of a worker's start-up before. Other databases (SQLite in dev
mode) go through a throw-away SQLAlchemy engine.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.db.revisions import missing_revisions
from core.db.session import create_db_engine, dialect_of, psycopg_dsn
from core.errors import ConfigError, ServiceUnavailable
from core.outage import DATABASE
from core.urls import mask_text, mask_url

__all__ = ["CONNECT_TIMEOUT_S", "check_heads", "database_heads", "require_current_schema_at", "schema_if_reachable"]

CONNECT_TIMEOUT_S = 10
_READ_HEADS = "select version_num from alembic_version"


def _unreachable(url: str, detail: str) -> ServiceUnavailable:
    return ServiceUnavailable(f"database not reachable ({mask_url(url)}): {mask_text(detail)}", dependency=DATABASE)


def _unreadable(detail: str) -> ConfigError:
    return ConfigError(f"cannot read the schema version ({detail.strip()}): grant the role "
                       "access, e.g. by `integramon migrate` with INTEGRAMON_DB_APP_ROLE")


def database_heads(url: str) -> frozenset[str]:
    """The revisions in the database's ``alembic_version`` (empty when it has none).

    ServiceUnavailable when the database does not answer; ConfigError when the role may not read it.
    """
    if dialect_of(url) != "postgresql":
        return _heads_via_sqlalchemy(url)
    import psycopg  # here, not at import: importing this module must not cost a process psycopg's import

    try:
        with psycopg.connect(psycopg_dsn(url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            row = conn.execute("select to_regclass('alembic_version') is not null").fetchone()
            if not row or not row[0]:
                return frozenset()
            return frozenset(str(r[0]) for r in conn.execute(_READ_HEADS).fetchall())
    except psycopg.OperationalError as exc:
        raise _unreachable(url, str(exc)) from exc
    except psycopg.Error as exc:  # e.g. a role without rights on alembic_version
        raise _unreadable(str(exc)) from exc


def _heads_via_sqlalchemy(url: str) -> frozenset[str]:
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import OperationalError, ProgrammingError

    engine = create_db_engine(url, null_pool=True)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return frozenset()
            return frozenset(conn.execute(text(_READ_HEADS)).scalars())
    except OperationalError as exc:
        raise _unreachable(url, str(exc.orig)) from exc
    except ProgrammingError as exc:
        raise _unreadable(str(exc.orig)) from exc
    finally:
        engine.dispose()


def check_heads(db_heads: Iterable[str]) -> None:
    """ConfigError when a database at ``db_heads`` lacks a migration of this code."""
    heads = frozenset(db_heads)
    missing = missing_revisions(heads)
    if missing:
        state = ", ".join(sorted(heads)) or "empty"
        needed = ", ".join(sorted(missing))
        raise ConfigError(f"database schema is older than this code (at {state}; missing {needed}): "
                          "run `integramon migrate` first")


def require_current_schema_at(url: str) -> None:
    """Refuse to start on an unreachable database or one whose schema is older than this code."""
    check_heads(database_heads(url))


def schema_if_reachable(url: str) -> None:
    """Refuse an old schema when the database answers; start anyway (and serve 503s) when it does not."""
    try:
        heads = database_heads(url)
    except ServiceUnavailable:
        return
    check_heads(heads)
