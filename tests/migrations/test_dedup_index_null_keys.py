"""Migration 1201: the active-dedup unique index leaves out runs without a dedup key, and keeps its rule.

Runs written before the upgrade stay where they are; after it, two active runs with one key still
conflict, runs without a key are not in the index at all, and a downgrade restores the old predicate.
"""

from __future__ import annotations

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
