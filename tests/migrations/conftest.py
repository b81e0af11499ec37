"""Fresh databases for migration tests, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import PG_DB, recreate_pg_database

__all__ = ["fresh_database_url"]


def fresh_database_url(kind: str, folder: Path, name: str) -> str:
    """An empty database of ``kind`` ("sqlite" or "postgresql"): a file in ``folder``, or a PostgreSQL
    database named after the run's test database plus ``name``, so side-by-side runs do not collide."""
    if kind == "sqlite":
        return f"sqlite:///{folder / f'{name}.db'}"
    database = f"{PG_DB}_{name}"
    recreate_pg_database(database)
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
