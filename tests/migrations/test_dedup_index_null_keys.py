"""Migration 1201: the active-dedup unique index leaves out runs without a dedup key, and keeps its rule.

Runs written before the upgrade stay where they are; after it, two active runs with one key still
conflict, runs without a key are not in the index at all, and a downgrade restores the old predicate.
On PostgreSQL the rebuild never makes ledger writes wait behind it (the previous release keeps
serving while migrations run), and a build a crash left invalid is redone.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from core.db.migrate import alembic_config
from core.db.session import create_db_engine
from tests.migrations.conftest import fresh_database_url

_WHEN = sa.DateTime(timezone=True)
RUN = sa.table("worker_job_run", sa.column("arq_job_id", sa.String), sa.column("queue", sa.String),
               sa.column("function", sa.String), sa.column("status", sa.String), sa.column("attempt", sa.Integer),
               sa.column("max_attempts", sa.Integer), sa.column("dedup_key", sa.String),
               sa.column("args_redacted", sa.JSON), sa.column("enqueued_at", _WHEN), sa.column("updated_at", _WHEN))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_database_url(request.param, tmp_path, "m1201")


def _run(job_id: str, dedup_key: str | None, status: str = "queued") -> dict[str, object]:
    now = datetime.now(UTC)
    return {"arq_job_id": job_id, "queue": "q", "function": "f", "status": status, "attempt": 0,
            "max_attempts": 1, "dedup_key": dedup_key, "args_redacted": {}, "enqueued_at": now, "updated_at": now}


def _index_sql(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT sql FROM sqlite_master WHERE name = 'uq_worker_job_run_active_dedup'"
        else:
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_worker_job_run_active_dedup'"
        return str(conn.execute(sa.text(query)).scalar_one())


def _indexed_rows(engine: sa.Engine) -> int | None:
    """Entries of the index on PostgreSQL (None on SQLite, which does not tell)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        conn.execute(sa.text("ANALYZE worker_job_run"))
        return int(conn.execute(sa.text(
            "SELECT reltuples FROM pg_class WHERE relname = 'uq_worker_job_run_active_dedup'")).scalar_one())


def test_upgrade_keeps_the_rule_without_indexing_null_keys(url: str) -> None:
    cfg = alembic_config(url)
    command.upgrade(cfg, "0701")
    engine = create_db_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(RUN), [_run("a", "tenant-1"), _run("b", None), _run("c", None),
                                          _run("d", "tenant-1", status="succeeded")])
        assert "dedup_key IS NOT NULL" not in _index_sql(engine)

        command.upgrade(cfg, "1201")
        assert "dedup_key IS NOT NULL" in _index_sql(engine)
        with engine.begin() as conn:  # keyless runs never conflict, before or after
            conn.execute(sa.insert(RUN), [_run("e", None), _run("f", "tenant-2")])
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # the rule still holds
            conn.execute(sa.insert(RUN), [_run("g", "tenant-1")])
        assert _indexed_rows(engine) in (None, 2)  # the two active keyed runs (a, f), no keyless one
        with engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT arq_job_id FROM worker_job_run ORDER BY arq_job_id")).scalars().all()
        assert kept == ["a", "b", "c", "d", "e", "f"]

        command.downgrade(cfg, "0701")
        assert "dedup_key IS NOT NULL" not in _index_sql(engine)
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.insert(RUN), [_run("h", "tenant-2")])
    finally:
        engine.dispose()


def _migration_waiting(engine: sa.Engine) -> bool:
    """Whether a statement in the test's database waits for a lock (only the migration can)."""
    with engine.connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar_one())


def _dedup_index_names(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT indexname FROM pg_indexes WHERE indexname LIKE "
                                          "'uq_worker_job_run_active_dedup%'")).scalars().all())


def test_upgrade_on_postgresql_lets_writes_through_while_it_waits(tmp_path: Path) -> None:
    """A write in flight when the upgrade starts makes the index build wait for it; an enqueue that
    arrives meanwhile must not queue behind the build (an exclusive lock would hold it until the
    first write ended and the whole ledger had been read)."""
    url = fresh_database_url("postgresql", tmp_path, "m1201w")
    cfg = alembic_config(url)
    command.upgrade(cfg, "0701")
    engine = create_db_engine(url)
    failure: list[BaseException] = []

    def upgrade() -> None:
        try:
            command.upgrade(cfg, "1201")
        except BaseException as exc:  # reported by the test below
            failure.append(exc)
    migrating = threading.Thread(target=upgrade)
    try:
        with engine.connect() as in_flight:
            in_flight.execute(sa.insert(RUN), [_run("a", "tenant-1")])  # not committed yet
            migrating.start()
            deadline = time.monotonic() + 20
            while not _migration_waiting(engine):
                assert migrating.is_alive(), failure
                assert time.monotonic() < deadline, "the upgrade never waited for the write in flight"
                time.sleep(0.05)
            with engine.begin() as conn:  # an enqueue during the build goes straight through
                conn.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
                conn.execute(sa.insert(RUN), [_run("b", None), _run("c", "tenant-2")])
            in_flight.commit()
        migrating.join(60)
        assert not migrating.is_alive()
        assert not failure, failure
        assert "dedup_key IS NOT NULL" in _index_sql(engine)
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # built with the rows written meanwhile
            conn.execute(sa.insert(RUN), [_run("d", "tenant-2")])
        assert _dedup_index_names(engine) == ["uq_worker_job_run_active_dedup"]
    finally:
        migrating.join(60)
        engine.dispose()


def test_upgrade_on_postgresql_redoes_a_build_a_crash_left_invalid(tmp_path: Path) -> None:
    url = fresh_database_url("postgresql", tmp_path, "m1201i")
    cfg = alembic_config(url)
    command.upgrade(cfg, "0701")
    engine = create_db_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(RUN), [_run("a", "dup"), _run("b", "dup", status="succeeded")])
            # an interrupted CREATE INDEX CONCURRENTLY leaves its index behind, marked invalid
            conn.execute(sa.text("CREATE UNIQUE INDEX uq_worker_job_run_active_dedup_next ON worker_job_run (status)"))
            conn.execute(sa.text("UPDATE pg_index SET indisvalid = false "
                                 "WHERE indexrelid = 'uq_worker_job_run_active_dedup_next'::regclass"))
        command.upgrade(cfg, "1201")
        assert "dedup_key IS NOT NULL" in _index_sql(engine)
        assert "(dedup_key)" in _index_sql(engine)  # the leftover (on status) was not kept
        assert _dedup_index_names(engine) == ["uq_worker_job_run_active_dedup"]
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.insert(RUN), [_run("c", "dup")])
    finally:
        engine.dispose()
