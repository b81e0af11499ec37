"""The migrated database equals the declared models, on PostgreSQL and on SQLite, and downgrades cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core.db.migrate import alembic_config, upgrade
from core.db.models import Base
from core.db.session import create_db_engine
from tests.migrations.conftest import fresh_database_url


def schema_diff(url: str) -> list[Any]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_database_url(request.param, tmp_path, "migration")


def test_migrated_schema_equals_models(fresh_url: str) -> None:
    upgrade(fresh_url)
    assert schema_diff(fresh_url) == []


def test_downgrade_removes_everything_and_upgrade_again(fresh_url: str) -> None:
    upgrade(fresh_url)
    command.downgrade(alembic_config(fresh_url), "base")
    engine = create_db_engine(fresh_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    upgrade(fresh_url)
    assert schema_diff(fresh_url) == []
