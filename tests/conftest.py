"""Shared fixtures: real PostgreSQL and Redis (never fakes), a migrated test database, settings.

Isolation knobs (so several developers can run suites side by side on one machine):
``INTEGRAMON_TEST_PG_DB`` (database name, default ``integramon_test``) and
``INTEGRAMON_TEST_REDIS_DB`` (Redis database number, default 9).
A service that does not answer fails the test run; nothing is skipped.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
import redis as redis_sync
from redis.asyncio import Redis
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.db.migrate import upgrade
from core.db.models import Base
from core.db.session import create_db_engine, make_session_factory
from core.settings import Settings

PG_DB = os.environ.get("INTEGRAMON_TEST_PG_DB", "integramon_test")
REDIS_DB = int(os.environ.get("INTEGRAMON_TEST_REDIS_DB", "9"))
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
KEPT_TABLES = {"alembic_version", "worker_tuning_settings"}


def recreate_pg_database(name: str) -> None:
    """Drop and create ``name`` so migrations always start from nothing."""
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'drop database if exists "{name}"')
        conn.execute(f'create database "{name}"')


@pytest.fixture(scope="session")
def pg_url() -> str:
    """A freshly migrated PostgreSQL database for this test session."""
    recreate_pg_database(PG_DB)
    upgrade(PG_URL)
    return PG_URL


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = create_db_engine(pg_url)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in KEPT_TABLES]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE worker_tuning_settings SET active_profile='balanced', overrides='{}'"))


@pytest.fixture
def db(pg_engine: Engine) -> sessionmaker[Session]:
    """Session factory on an emptied database (tables truncated before the test)."""
    _truncate(pg_engine)
    return make_session_factory(pg_engine)


@pytest.fixture
def redis_url() -> str:
    client = redis_sync.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()
    return REDIS_URL


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def settings(pg_url: str, redis_url: str, tmp_path: Path, db: sessionmaker[Session]) -> Settings:
    """Settings for a test: real services, short leases and grace periods, a private data folder."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=pg_url,
        redis_url=redis_url,
        secret_key="",
        job_lease_seconds=3.0,
        shutdown_grace_seconds=2.0,
        heartbeat_interval_seconds=0.5,
        heartbeat_ttl_seconds=3.0,
        tuning_refresh_seconds=1.0,
        poll_delay_seconds=0.5,
        stale_queue_minutes=45.0,
        controller_lease_seconds=2.0,
    )
