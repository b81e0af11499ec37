"""Run the Alembic migrations programmatically (``integramon migrate``, tests, all-in-one mode), and
tell a starting service whether the database schema is as new as its code.

Any number of ``integramon migrate`` may run at once (one per deploy step, a retried ECS task, a
developer): on PostgreSQL each takes a session-level advisory lock first, so one migrates and the
others then find the schema at its heads and do nothing. Without the lock two of them race on
``CREATE TABLE alembic_version`` (UniqueViolation on ``pg_type``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from core.db import revisions
from core.db.schema import check_heads, require_current_schema_at
from core.db.session import create_db_engine, normalise_url
from core.errors import ConfigError, ServiceUnavailable
from core.secrets import SecretBox
from core.settings import Settings, load_settings
from core.urls import mask_text

__all__ = [
    "MIGRATION_LOCK_KEY",
    "SETTINGS_ATTRIBUTE",
    "AppRole",
    "MigrationSecretBox",
    "alembic_config",
    "code_heads",
    "missing_revisions",
    "require_current_schema",
    "require_current_schema_at",
    "upgrade",
]

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# One fixed 64-bit key for pg_advisory_lock, derived from a name so it does not collide by accident.
MIGRATION_LOCK_KEY = int.from_bytes(hashlib.sha256(b"integramon:migrate").digest()[:8], "big", signed=True)
# Alembic ``Config.attributes`` key under which a migration finds the caller's Settings (a data
# migration that seals or unseals needs ``INTEGRAMON_SECRET_KEY``); absent, it loads them from the environment.
SETTINGS_ATTRIBUTE = "integramon_settings"


class MigrationSecretBox:
    """For data migrations that seal or open values: the SecretBox of the Settings that :func:`upgrade`
    passed in the Alembic config (else the environment's), built on first use, so that a database with
    nothing to (un)seal needs no key."""

    def __init__(self, attributes: dict[str, Any]) -> None:
        self._attributes = attributes
        self._box: SecretBox | None = None

    def get(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox(self._attributes.get(SETTINGS_ATTRIBUTE) or load_settings())
        return self._box


@dataclass(frozen=True, slots=True)
class AppRole:
    """The login role the services use: data rights (DML) only, no DDL, no ownership."""

    name: str
    password: str = field(repr=False)


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    return cfg


_LOCK_POLL_FIRST_S = 0.05  # first pause between two tries for the lock (doubling after each try)
_LOCK_POLL_MAX_S = 1.0  # longest pause between two tries for the lock


@contextmanager
def _migration_lock(conn: Connection) -> Iterator[None]:
    """Hold the migration advisory lock on ``conn`` (PostgreSQL); other dialects need none here.

    A migrate that finds the lock taken asks again in short transactions instead of blocking in
    ``pg_advisory_lock``: a statement blocked there keeps its snapshot, and a migration that builds an
    index CONCURRENTLY (1201) waits for every older snapshot, so the holder would wait for the waiters
    while they wait for it (a cycle through two sessions of one process that PostgreSQL cannot see)."""
    if conn.dialect.name != "postgresql":
        yield
        return
    pause = _LOCK_POLL_FIRST_S
    waited = False
    while True:
        taken = conn.execute(text("select pg_try_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY}).scalar()
        conn.commit()  # no snapshot kept between tries; once taken, the session-level lock outlives it
        if taken:
            break
        if not waited:  # said once per wait
            log.info("another migrate holds the migration lock; waiting for it")
            waited = True
        time.sleep(pause)
        pause = min(pause * 2, _LOCK_POLL_MAX_S)
    try:
        yield
    finally:
        conn.execute(text("select pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
        conn.commit()


def upgrade(database_url: str, revision: str = "heads", *, app_role: AppRole | None = None,
            settings: Settings | None = None) -> None:
    """Apply every migration up to ``revision`` (all branch heads by default) under the migration
    lock, then (optionally) create or update the services' DML-only login role. ``settings`` give
    data migrations the secret key (default: the environment's)."""
    engine = create_db_engine(database_url, null_pool=True)
    try:
        with engine.connect() as lock_conn, _migration_lock(lock_conn):
            cfg = alembic_config(database_url)
            if settings is not None:
                cfg.attributes[SETTINGS_ATTRIBUTE] = settings
            command.upgrade(cfg, revision)
            if app_role is not None:
                bootstrap_app_role(engine, app_role)
    except OperationalError as exc:
        raise ServiceUnavailable(f"database not reachable for migrations: {mask_text(str(exc.orig))}") from exc
    finally:
        engine.dispose()


def bootstrap_app_role(engine: Engine, role: AppRole) -> None:
    """Create (or re-password) ``role`` and grant it SELECT/INSERT/UPDATE/DELETE on every table and
    use of every sequence in ``public``, nothing else: a leaked service credential cannot drop or
    alter the schema. Run after each upgrade, so tables added by new migrations are granted too."""
    if engine.dialect.name != "postgresql":
        raise ConfigError("INTEGRAMON_DB_APP_ROLE needs PostgreSQL (SQLite has no roles)")
    if not role.name.replace("_", "").isalnum() or not role.password:
        raise ConfigError("INTEGRAMON_DB_APP_ROLE must be letters, digits and _ and needs INTEGRAMON_DB_APP_PASSWORD")
    with engine.begin() as conn:
        quote = conn.dialect.identifier_preparer.quote
        name = quote(role.name)
        # hashed here (SCRAM, by libpq): the plain password never reaches the server or its logs
        hashed = conn.connection.dbapi_connection.pgconn.encrypt_password(  # type: ignore[union-attr]
            role.password.encode(), role.name.encode(), b"scram-sha-256").decode()
        secret = conn.execute(text("select quote_literal(:p)"), {"p": hashed}).scalar_one()
        exists = conn.execute(text("select 1 from pg_roles where rolname = :n"), {"n": role.name}).first()
        verb = "ALTER" if exists else "CREATE"
        # exec_driver_sql: the SCRAM string holds ':' that text() would read as bind parameters
        conn.exec_driver_sql(f"{verb} ROLE {name} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {secret}")
        database = quote(conn.execute(text("select current_database()")).scalar_one())
        owner = quote(conn.execute(text("select current_user")).scalar_one())
        for statement in (
            f"GRANT CONNECT ON DATABASE {database} TO {name}",
            f"REVOKE CREATE ON SCHEMA public FROM {name}",
            f"GRANT USAGE ON SCHEMA public TO {name}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {name}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {name}",
        ):
            conn.execute(text(statement))
    log.info("database role %s has data rights on every table", role.name)


def code_heads() -> frozenset[str]:
    """The migration heads this code was written against (see core.db.revisions)."""
    return revisions.code_heads()


def missing_revisions(db_heads: frozenset[str]) -> set[str]:
    """Heads of this code that the database (at ``db_heads``) has not applied yet (see core.db.revisions)."""
    return revisions.missing_revisions(db_heads)


def require_current_schema(engine: Engine) -> None:
    """Refuse to start on a database whose schema is older than this code (``integramon migrate`` not run)."""
    try:
        with engine.connect() as conn:  # read directly: MigrationContext logs two INFO lines per call
            db_heads = frozenset(conn.execute(text("select version_num from alembic_version")).scalars()) \
                if inspect(conn).has_table("alembic_version") else frozenset()
    except OperationalError as exc:
        raise ServiceUnavailable(f"database not reachable: {mask_text(str(exc.orig))}") from exc
    except ProgrammingError as exc:  # e.g. a role without rights on alembic_version
        raise ConfigError(f"cannot read the schema version ({str(exc.orig).strip()}): grant the role "
                          "access, e.g. by `integramon migrate` with INTEGRAMON_DB_APP_ROLE") from exc
    check_heads(db_heads)
