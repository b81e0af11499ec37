"""Migration 1101: existing schedule arguments are sealed on upgrade (the row then holds no secret),
read back unchanged, and written back in plain on downgrade; the default schedules of 0801 stay
plain and need no key. On SQLite and PostgreSQL (a database named after the test database, so
parallel runs do not share it)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import select

from core.db.migrate import SETTINGS_ATTRIBUTE, alembic_config, upgrade
from core.db.models.base import JsonType, UtcDateTime, utcnow
from core.db.models.scheduling import JobConfig
from core.db.session import create_db_engine, make_session_factory
from core.defaults import DEFAULT_SCHEDULES
from core.schedules.arguments import UnreadableArguments, schedule_arguments
from core.secrets import SecretBox
from core.settings import Settings
from tests.migrations.conftest import fresh_database_url

SECRET_ARGS: dict[str, Any] = {"api_token": "canary-token-1101", "counter": "c",
                               "nested": {"hook": "https://hooks.example/canary-path-1101"}}
PLAIN_ARGS: dict[str, Any] = {"counter": "c", "n": 3}
CANARIES = ("canary-token-1101", "canary-path-1101")
# the 0801 shape of the table (no args_sealed yet), to insert rows as an older release did
OLD_JOB_CONFIG = sa.table("job_config", sa.column("name", sa.String), sa.column("function", sa.String),
                          sa.column("args", JsonType), sa.column("interval_seconds", sa.Integer),
                          sa.column("enabled", sa.Boolean), sa.column("per_tenant", sa.Boolean),
                          sa.column("created_at", sa.DateTime), sa.column("updated_at", sa.DateTime))
JOB_RUN = sa.table("job_run", sa.column("job_config_id", sa.Integer), sa.column("scheduled_for", UtcDateTime),
                  sa.column("created_at", UtcDateTime))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_database_url(request.param, tmp_path, "m1101")


def _raw(engine: sa.Engine) -> dict[str, tuple[Any, str]]:
    """name -> (args, every column as text) straight from SQL."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select * from job_config")).mappings().all()
    return {r["name"]: (json.loads(r["args"]) if isinstance(r["args"], str) else r["args"],  # SQLite: text
                        " ".join(str(v) for v in r.values())) for r in rows}


def test_upgrade_seals_existing_arguments_and_downgrade_restores_them(url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key=Fernet.generate_key().decode())
    cfg = alembic_config(url)
    cfg.attributes[SETTINGS_ATTRIBUTE] = settings
    command.upgrade(cfg, "0801")
    engine = create_db_engine(url)
    try:
        now = utcnow()
        with engine.begin() as conn:
            conn.execute(sa.insert(OLD_JOB_CONFIG), [
                {"name": name, "function": "noop", "args": args, "interval_seconds": 60, "enabled": True,
                 "per_tenant": False, "created_at": now, "updated_at": now}
                for name, args in (("secret", SECRET_ARGS), ("plain", PLAIN_ARGS))])

        command.upgrade(cfg, "1101")
        raw = _raw(engine)
        assert not [c for c in CANARIES if c in raw["secret"][1]]
        assert raw["secret"][0]["api_token"] == "***"
        assert raw["plain"][0] == PLAIN_ARGS
        box = SecretBox(settings)
        with make_session_factory(engine)() as session:
            configs = {c.name: c for c in session.scalars(select(JobConfig))}
            assert schedule_arguments(configs["secret"], box) == SECRET_ARGS
            assert configs["plain"].args_sealed is None
            assert schedule_arguments(configs["plain"], box) == PLAIN_ARGS
            for default in DEFAULT_SCHEDULES:  # 0801's rows: untouched, readable without a key
                assert configs[default.name].args_sealed is None
                assert schedule_arguments(configs[default.name], box) == {}

        wrong = dataclasses.replace(settings, secret_key=Fernet.generate_key().decode())
        other = alembic_config(url)
        other.attributes[SETTINGS_ATTRIBUTE] = wrong
        with pytest.raises(UnreadableArguments):  # refused before anything is written
            command.downgrade(other, "0801")

        with engine.begin() as conn:  # a firing's history row, which downgrade must not cascade away
            conn.execute(sa.insert(JOB_RUN), [{"job_config_id": configs["secret"].id, "scheduled_for": now,
                                               "created_at": now}])
        command.downgrade(cfg, "0801")
        with engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from job_run")).scalar() == 1
        raw = _raw(engine)
        assert raw["secret"][0] == SECRET_ARGS
        assert raw["plain"][0] == PLAIN_ARGS

        upgrade(url, settings=settings)  # `integramon migrate` passes its settings this way
        raw = _raw(engine)
        assert not [c for c in CANARIES if c in raw["secret"][1]]
        with make_session_factory(engine)() as session:
            sealed = session.scalars(select(JobConfig).where(JobConfig.name == "secret")).one()
            assert schedule_arguments(sealed, box) == SECRET_ARGS
    finally:
        engine.dispose()
