"""The database pressure sampler differs by design (PostgreSQL: statistics views and rates between samples;
SQLite: how long ``BEGIN IMMEDIATE`` waits for the write lock). The contract both keep: a sample names its
dialect and fills exactly that dialect's fields, every other field stays None."""

from __future__ import annotations

from core.db.session import create_db_engine
from core.pressure.database import DatabasePressure, DatabaseSampler

PG_FIELDS = {"lock_waits", "active_connections", "max_connections", "slow_statements"}
PG_RATES = {"commits_per_s", "rows_written_per_s", "wal_bytes_per_s"}
SQLITE_FIELDS = {"write_lock_wait_ms"}


def _filled(sample: DatabasePressure) -> set[str]:
    return {name for name in sample.__struct_fields__ if name != "dialect" and getattr(sample, name) is not None}


def _samples(url: str) -> list[DatabasePressure]:
    engine = create_db_engine(url)
    try:
        sampler = DatabaseSampler(engine)
        return [sampler.sample(), sampler.sample()]
    finally:
        engine.dispose()


def test_each_dialect_fills_its_own_fields(database_urls: dict[str, str]) -> None:
    pg_first, pg_second = _samples(database_urls["postgresql"])
    lite_first, lite_second = _samples(database_urls["sqlite"])
    assert (pg_first.dialect, lite_first.dialect) == ("postgresql", "sqlite")
    assert _filled(pg_first) == PG_FIELDS  # no rates before a previous sample exists
    assert _filled(pg_second) == PG_FIELDS | PG_RATES
    assert _filled(lite_first) == _filled(lite_second) == SQLITE_FIELDS
    assert pg_first.connection_use is not None
    assert lite_first.connection_use is None
