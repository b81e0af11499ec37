"""Settings of every IntegraMon process, read from ``INTEGRAMON_*`` environment variables only.

Each entry point calls :func:`load_settings` once and passes the result down; nothing reads the
environment at import time. Every field below is one variable (``INTEGRAMON_`` + the field name in
upper case) and is documented in the settings table of docs/settings.md (a test keeps the two in step).
"""

from __future__ import annotations

import dataclasses
import os
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from core.errors import ConfigError

__all__ = ["ENV_PREFIX", "Settings", "env_name", "load_settings", "settings_to_env"]

ENV_PREFIX = "INTEGRAMON_"


@dataclass(frozen=True, slots=True)
class Settings:
    """All runtime settings; defaults give the embedded single-host setup."""

    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    rabbitmq_url: str = ""
    rabbitmq_exchange: str = "integramon.events"
    secret_key: str = field(default="", repr=False)
    log_level: str = "INFO"
    # worker runtime
    worker_concurrency: int | None = None
    worker_profile: str | None = None
    job_lease_seconds: float = 30.0
    shutdown_grace_seconds: float = 25.0
    heartbeat_interval_seconds: float = 2.0
    heartbeat_ttl_seconds: float = 10.0
    tuning_refresh_seconds: float = 5.0
    poll_delay_seconds: float = 0.5
    keep_result_seconds: int = 3600
    ledger_flush_interval_ms: int = 5
    # controller
    stale_queue_minutes: float = 45.0
    controller_lease_seconds: float = 15.0
    queue_sample_seconds: float = 15.0
    queue_sample_retention_days: int = 14
    cloudwatch_namespace: str = ""
    # bottlenecks (controller): DesiredWorkers = ready / (slots per worker x this), capped while a limit holds
    scaling_backlog_per_slot: float = 5.0
    # controller: fault recovery and retention (faults)
    reconcile_seconds: float = 60.0
    job_vanished_grace_seconds: float = 30.0
    retention_seconds: float = 300.0
    # storage
    archive_dir: Path | None = None
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    # CPI client
    cpi_timeout_seconds: float = 30.0
    # admin API
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # AI chat
    llm_base_url: str = ""
    llm_api_key: str = field(default="", repr=False)
    llm_model: str = "gpt-4o-mini"
    # notifications
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "integramon@localhost"
    # security (issue 12): plain-http CPI hosts, token and console-session lifetimes, login limits, proxies
    cpi_plain_http_hosts: str = "loopback"
    token_default_days: int = 90
    session_idle_minutes: int = 60
    session_max_hours: int = 12
    auth_failures_per_minute: int = 20
    forwarded_allow_ips: str = "127.0.0.1"
    swagger_ui: bool = True
    # infra: connection pools, database credentials, schema bootstrap, CloudWatch metric names
    db_pool_size: int | None = None
    db_max_overflow: int | None = None
    database_password: str = field(default="", repr=False)
    db_app_role: str = ""
    db_app_password: str = field(default="", repr=False)
    cloudwatch_ready_metric: str = "ReadyJobs"
    scale_in_protection_minutes: int = 60
    scale_in_idle_seconds: float = 30.0

    @property
    def resolved_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file inside ``data_dir``."""
        if self.database_url:
            return _with_password(self.database_url, self.database_password)
        return f"sqlite:///{(self.data_dir / 'integramon.db').resolve()}"

    @property
    def resolved_archive_dir(self) -> Path:
        """Local archive folder used when no S3 bucket is configured."""
        return self.archive_dir or (self.data_dir / "archive")


def _with_password(url: str, password: str) -> str:
    """``url`` with ``password`` set in its userinfo (a secret store injects the password alone)."""
    if not password:
        return url
    from sqlalchemy.engine import make_url

    return make_url(url).set(password=password).render_as_string(hide_password=False)


def env_name(field_name: str) -> str:
    """Environment variable that sets ``field_name``."""
    return ENV_PREFIX + field_name.upper()


def _convert(name: str, raw: str, annotation: Any) -> Any:
    """Turn one environment string into the field's type, or raise a one-line ConfigError."""
    optional = False
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(args) < len(get_args(annotation))
        annotation = args[0]
    if optional and raw.strip() == "":
        return None
    try:
        if annotation is bool:
            lowered = raw.strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(raw)
            return lowered in {"1", "true", "yes", "on"}
        if annotation in (int, float):
            return annotation(raw.strip())
        if annotation is Path:
            return Path(raw)
        return raw
    except ValueError as exc:
        kind = getattr(annotation, "__name__", str(annotation))
        raise ConfigError(f"{env_name(name)}={raw!r} is not a valid {kind}") from exc


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (default: the process environment).

    Unknown ``INTEGRAMON_*`` variables are an error, so a typo never silently falls back to a default.
    """
    env = os.environ if environ is None else environ
    hints = get_type_hints(Settings)
    known = {env_name(f.name): f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(k for k in env if k.startswith(ENV_PREFIX) and k not in known and not k.startswith(
        ENV_PREFIX + "TEST_"))
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]} (see the settings table in docs/settings.md)")
    values: dict[str, Any] = {}
    for var, name in known.items():
        if var in env:
            values[name] = _convert(name, env[var], hints[name])
    settings = Settings(**values)
    if settings.worker_concurrency is not None and settings.worker_concurrency < 1:
        raise ConfigError(f"{env_name('worker_concurrency')} must be at least 1")
    for name in ("db_pool_size", "db_max_overflow"):
        value = getattr(settings, name)
        if value is not None and not 0 <= value <= 200:
            raise ConfigError(f"{env_name(name)} must be between 0 and 200")
    if settings.job_lease_seconds <= 0:
        raise ConfigError(f"{env_name('job_lease_seconds')} must be positive")
    return settings


def settings_to_env(settings: Settings) -> dict[str, str]:
    """The ``INTEGRAMON_*`` variables that reproduce ``settings`` in a child process."""
    env: dict[str, str] = {}
    for f in dataclasses.fields(Settings):
        value = getattr(settings, f.name)
        if value is None:
            continue
        env[env_name(f.name)] = str(value)
    return env
