"""Both databases for a contract test: the session's migrated PostgreSQL (emptied) and a migrated SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.db.migrate import upgrade
from core.settings import Settings


@pytest.fixture
def database_urls(pg_url: str, db: sessionmaker[Session], tmp_path: Path) -> dict[str, str]:
    """``{"postgresql": url, "sqlite": url}``, both migrated by ``core.db.migrate.upgrade`` and empty."""
    sqlite_url = f"sqlite:///{tmp_path / 'contract.db'}"
    upgrade(sqlite_url)
    return {"postgresql": pg_url, "sqlite": sqlite_url}


def settings_for(url: str, redis_url: str, folder: Path) -> Settings:
    return Settings(data_dir=folder, database_url=url, redis_url=redis_url, secret_key="")
