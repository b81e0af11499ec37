"""The database settings Terraform and compose set: pool caps per process, and a password injected
apart from the URL (how ECS hands over a secret) that survives characters URLs must escape."""

from __future__ import annotations

from dataclasses import replace

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.db.migrate import AppRole, bootstrap_app_role
from core.db.session import create_db_engine
from core.errors import ConfigError
from core.resources import open_resources
from core.settings import Settings, load_settings
from tests.conftest import PG_ADMIN_DSN


async def test_pool_settings_cap_the_connections_of_a_process(settings: Settings) -> None:
    capped = replace(settings, db_pool_size=2, db_max_overflow=1)
    async with open_resources(capped, pool_size=10) as res:  # the role's default loses to the settings
        pool = res.engine.pool
        assert pool.size() == 2  # type: ignore[attr-defined]
        assert pool._max_overflow == 1  # type: ignore[attr-defined]
    async with open_resources(settings, pool_size=7) as res:  # unset: the role's default, overflow = size
        assert res.engine.pool.size() == 7  # type: ignore[attr-defined]
        assert res.engine.pool._max_overflow == 7  # type: ignore[attr-defined]


def test_pool_settings_come_from_the_environment_and_are_bounded() -> None:
    loaded = load_settings({"INTEGRAMON_DB_POOL_SIZE": "3", "INTEGRAMON_DB_MAX_OVERFLOW": "0"})
    assert (loaded.db_pool_size, loaded.db_max_overflow) == (3, 0)
    assert load_settings({}).db_pool_size is None
    with pytest.raises(ConfigError, match="INTEGRAMON_DB_POOL_SIZE"):
        load_settings({"INTEGRAMON_DB_POOL_SIZE": "1000"})


async def test_a_password_given_apart_from_the_url_is_used_by_the_dml_role(settings: Settings) -> None:
    """The AWS wiring: the URL names the DML-only role, the password comes alone; the role that
    `integramon migrate` bootstrapped can run a service (schema check included)."""
    role = "im_pw_test_role"
    password = "p@ss/w:rd?#%"
    engine = create_db_engine(settings.database_url, null_pool=True)
    try:
        bootstrap_app_role(engine, AppRole(role, password))
        url = make_url(settings.database_url).set(username=role, password=None)
        split = replace(settings, database_url=url.render_as_string(hide_password=False), database_password=password)
        resolved = make_url(split.resolved_database_url)
        assert resolved.username == role
        assert resolved.password == password
        async with open_resources(split) as res:
            with res.engine.connect() as conn:
                assert conn.execute(text("select current_user")).scalar_one() == role
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
        engine.dispose()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'drop role if exists "{role}"')
