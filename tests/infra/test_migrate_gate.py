"""Gated migrations, against the real PostgreSQL: concurrent ``integramon migrate`` all succeed (the
advisory lock), services refuse a schema older than their code, and the DML-only application role."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from core.db.migrate import AppRole, code_heads, missing_revisions, require_current_schema, upgrade
from core.db.session import create_db_engine
from core.errors import ConfigError
from core.settings import Settings
from tests.conftest import PG_ADMIN_DSN, PG_DB, REDIS_URL, recreate_pg_database
from tests.processes import process_env

FRESH_DB = f"{PG_DB}_migrate_gate"
FRESH_URL = f"postgresql://postgres@127.0.0.1:5432/{FRESH_DB}"


@pytest.fixture
def fresh_db() -> Iterator[str]:
    recreate_pg_database(FRESH_DB)
    yield FRESH_URL
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s "
                     "and pid <> pg_backend_pid()", (FRESH_DB,))
        conn.execute(f'drop database if exists "{FRESH_DB}"')


def db_heads(url: str) -> set[str]:
    engine = create_db_engine(url, null_pool=True)
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.execute(text("select version_num from alembic_version"))}
    finally:
        engine.dispose()


def start(url: str, *args: str, **extra: str) -> subprocess.Popen[str]:
    env = process_env(Settings(database_url=url, redis_url=REDIS_URL), **extra)
    return subprocess.Popen([sys.executable, "-m", "integramon", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_four_concurrent_migrates_on_a_fresh_database_all_succeed(fresh_db: str, round_: int) -> None:
    procs = [start(fresh_db, "migrate") for _ in range(4)]
    outcomes = [(proc.wait(120), proc.stderr.read() if proc.stderr else "") for proc in procs]
    assert [rc for rc, _ in outcomes] == [0, 0, 0, 0], [err[-600:] for _, err in outcomes]
    applied = db_heads(fresh_db)
    # every head applied; a head another revision depends on (0301 under 1001) is not kept as its own row
    assert applied <= set(code_heads())
    assert missing_revisions(frozenset(applied)) == set()


@pytest.mark.parametrize("command", [
    ["worker", "--group", "light"],
    ["controller"],
    ["api", "--port", "0"],
], ids=lambda c: c[0])
def test_services_refuse_a_schema_older_than_their_code(fresh_db: str, command: list[str]) -> None:
    upgrade(fresh_db, "0001")  # an old release's schema: later heads not applied
    proc = start(fresh_db, *command)
    try:
        rc = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read() if proc.stderr else ""
    assert rc != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "schema is older than this code" in lines[0]
    assert "run `integramon migrate` first" in lines[0]
    assert "Traceback" not in err


def test_the_schema_check_accepts_the_current_and_a_newer_schema(fresh_db: str) -> None:
    engine = create_db_engine(fresh_db, null_pool=True)
    try:
        with pytest.raises(ConfigError, match="older than this code"):
            require_current_schema(engine)  # empty database
        upgrade(fresh_db)
        require_current_schema(engine)
        with engine.begin() as conn:  # newer code migrated on top (rolling deploy): still accepted
            conn.execute(text("insert into alembic_version values ('0999_from_newer_code')"))
        require_current_schema(engine)
    finally:
        engine.dispose()


def test_migrate_bootstraps_a_dml_only_application_role(fresh_db: str) -> None:
    role = AppRole(f"im_app_{uuid.uuid4().hex[:10]}", "app-pass-1")
    try:
        proc = start(fresh_db, "migrate", INTEGRAMON_DB_APP_ROLE=role.name, INTEGRAMON_DB_APP_PASSWORD=role.password)
        assert proc.wait(120) == 0, proc.stderr.read() if proc.stderr else ""
        upgrade(fresh_db, app_role=AppRole(role.name, "app-pass-2"))  # repeatable: re-passwords, re-grants
        app_dsn = f"host=127.0.0.1 port=5432 dbname={FRESH_DB} user={role.name}"
        with psycopg.connect(app_dsn, autocommit=True) as conn:
            conn.execute("insert into tenant (name, api_url, token_url, auth_type, client_id, "
                         "client_secret_encrypted, active, created_at, updated_at) values ('role-test', "
                         "'https://x', 'https://x/token', 'oauth', 'c', 'enc', true, now(), now())")
            conn.execute("update tenant set active = false where name = 'role-test'")
            assert conn.execute("select count(*) from tenant").fetchone() == (1,)
            conn.execute("delete from tenant where name = 'role-test'")
            assert conn.execute("select count(*) from alembic_version").fetchone()[0] >= 1  # type: ignore[index]
            for ddl in ("create table app_made (id int)", "drop table tenant", "alter table tenant add x int",
                        "truncate tenant"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(ddl)
        with psycopg.connect(PG_ADMIN_DSN) as admin:
            flags = admin.execute("select rolsuper, rolcreatedb, rolcreaterole, rolcanlogin from pg_roles "
                                  "where rolname = %s", (role.name,)).fetchone()
            stored = admin.execute("select rolpassword from pg_authid where rolname = %s", (role.name,)).fetchone()
        assert flags == (False, False, False, True)
        assert stored is not None
        assert stored[0].startswith("SCRAM-SHA-256$"), "the password must be set as a hash, never in clear"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s "
                         "and pid <> pg_backend_pid()", (FRESH_DB,))
            conn.execute(f'drop database if exists "{FRESH_DB}"')
            conn.execute(f'drop role if exists "{role.name}"')


def test_a_migration_file_uses_a_revision_the_check_knows() -> None:
    """The heads the services compare with come from the same folder ``integramon migrate`` applies."""
    versions = Path(__file__).resolve().parents[2] / "core" / "db" / "migrations" / "versions"
    assert set(code_heads()) <= {p.name.split("_")[3] for p in versions.glob("*.py")}
