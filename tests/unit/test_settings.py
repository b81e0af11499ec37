"""Settings come only from INTEGRAMON_* variables, fail with one clear line, and are all documented."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import Settings, env_name, load_settings, settings_to_env

README = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_defaults_are_embedded_sqlite_and_local_redis() -> None:
    settings = load_settings({})
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.stale_queue_minutes == 45


def test_values_are_converted() -> None:
    settings = load_settings({"INTEGRAMON_WORKER_CONCURRENCY": "7", "INTEGRAMON_JOB_LEASE_SECONDS": "2.5"})
    assert settings.worker_concurrency == 7
    assert settings.job_lease_seconds == 2.5


def test_bad_number_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="INTEGRAMON_API_PORT='eighty' is not a valid int"):
        load_settings({"INTEGRAMON_API_PORT": "eighty"})


def test_unknown_variable_is_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown setting INTEGRAMON_REDIS_UR"):
        load_settings({"INTEGRAMON_REDIS_UR": "redis://x"})


def test_round_trip_through_environment() -> None:
    original = Settings(worker_concurrency=3, redis_url="redis://h:1/2")
    assert load_settings(settings_to_env(original)) == original


def test_every_setting_is_in_the_settings_table() -> None:
    text = README.read_text()
    missing = [env_name(f.name) for f in dataclasses.fields(Settings) if f"`{env_name(f.name)}`" not in text]
    assert missing == []
