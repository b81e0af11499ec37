"""The one registry of ``config_ext`` keys: each key's type, default, bounds, scope and meaning.

Operators change these rows from the console and API while the system runs; jobs and the controller
read them at the moment they need them. Every reader, the API's validation and the docs take a key's
definition from here, so what a key means, what it accepts and what it falls back to cannot drift
between the code that reads it and the page that edits it. A stored value that no longer fits its
key (written by SQL or an older version) is ignored with the default used, never a failed job.

Areas register their keys at import time with :func:`register`; this module registers the keys that
existed before the registry (retention, cleanup, polling intervals).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models.scheduling import ConfigExt

__all__ = [
    "REGISTRY",
    "ConfigKey",
    "ConfigValueError",
    "config_key",
    "read_config",
    "read_int",
    "register",
    "validate_value",
]

KeyType = Literal["int", "float", "bool", "str", "list[str]"]
Scope = Literal["global", "tenant"]


class ConfigValueError(ValueError):
    """A value that does not fit its key; the message names the key and what it accepts."""


@dataclass(frozen=True, slots=True)
class ConfigKey:
    """One ``config_ext`` key. ``scope='tenant'`` keys may also be set per tenant (tenant row wins)."""

    name: str
    type: KeyType
    default: Any
    meaning: str
    minimum: float | None = None
    maximum: float | None = None
    scope: Scope = "tenant"
    unit: str = ""

    def describe(self) -> dict[str, Any]:
        """The key as the API serves it."""
        return {"key": self.name, "type": self.type, "default": self.default, "minimum": self.minimum,
                "maximum": self.maximum, "scope": self.scope, "unit": self.unit, "meaning": self.meaning}


REGISTRY: dict[str, ConfigKey] = {}


def register(key: ConfigKey) -> ConfigKey:
    """Add ``key`` (idempotent for an identical definition; a conflicting one is a programming error)."""
    existing = REGISTRY.get(key.name)
    if existing is not None and existing != key:
        raise ValueError(f"config key {key.name!r} registered twice with different definitions")
    validate_value(key, key.default)
    REGISTRY[key.name] = key
    return key


def config_key(name: str) -> ConfigKey:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigValueError(f"unknown config key {name!r}") from None


def validate_value(key: ConfigKey, value: Any) -> Any:
    """``value`` checked against the key's type and bounds (ints accepted where floats are); else raises."""
    kind = key.type
    ok: bool
    if kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value == value  # NaN fails
    elif kind == "str":
        ok = isinstance(value, str)
    else:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    if not ok:
        raise ConfigValueError(f"{key.name} must be of type {kind}")
    if kind in ("int", "float"):
        if key.minimum is not None and value < key.minimum:
            raise ConfigValueError(f"{key.name} must be at least {key.minimum:g}")
        if key.maximum is not None and value > key.maximum:
            raise ConfigValueError(f"{key.name} must be at most {key.maximum:g}")
    return float(value) if kind == "float" else value


def read_config(session: Session, name: str, tenant_id: int | None = None) -> Any:
    """The tenant's value, else the global one, else the registered default (invalid rows are skipped)."""
    key = config_key(name)
    rows = session.execute(select(ConfigExt.tenant_id, ConfigExt.value).where(ConfigExt.key == name)).all()
    by_tenant = {tid: value for tid, value in rows}
    for scope in ((tenant_id, None) if tenant_id is not None else (None,)):
        if scope in by_tenant:
            try:
                return validate_value(key, by_tenant[scope])
            except ConfigValueError:
                continue
    return key.default


def read_int(session: Session, name: str, tenant_id: int | None = None) -> int:
    """An integer key's effective value."""
    return int(read_config(session, name, tenant_id))


_DAY = 86400.0
for _key in (
    ConfigKey("retention.message_log_days", "int", 30, "Days of message logs kept in the database; older "
              "days are archived (when archive.before_prune) and pruned.", 1, 3650, unit="days"),
    ConfigKey("archive.before_prune", "bool", True, "Archive a day to object storage before pruning it."),
    ConfigKey("retention.metrics_days", "int", 30, "Days of platform metric samples kept.", 1, 3650,
              scope="global", unit="days"),
    ConfigKey("retention.stats_hour_days", "int", 90, "Days of hourly stats kept (daily stats are kept).",
              1, 3650, unit="days"),
    ConfigKey("retention.resolved_alert_days", "int", 90, "Days a resolved alert is kept.", 1, 3650,
              unit="days"),
    ConfigKey("retention.agent_report_days", "int", 90, "Days agent reports are kept.", 1, 3650,
              scope="global", unit="days"),
    ConfigKey("retention.chat_days", "int", 180, "Days chat tasks and answers are kept.", 1, 3650,
              scope="global", unit="days"),
    # ledger, outbox, audit and schedule-firing retention, pruned by the controller's retention loop
    ConfigKey("retention.job_run_days", "int", 30, "Days a finished ledger run (worker_job_run) is kept; "
              "unfinished and dead-lettered runs are never pruned.", 1, 3650, scope="global", unit="days"),
    ConfigKey("retention.job_attempt_days", "int", 30, "Days a finished attempt (worker_job_attempt) is "
              "kept (attempts also go with their run).", 1, 3650, scope="global", unit="days"),
    ConfigKey("retention.outbox_sent_days", "int", 7, "Days a delivered outbox event is kept (unsent events "
              "are never pruned).", 1, 3650, scope="global", unit="days"),
    ConfigKey("retention.audit_log_days", "int", 365, "Days an audit log entry is kept.", 1, 3650,
              scope="global", unit="days"),
    ConfigKey("retention.schedule_run_days", "int", 30, "Days a schedule firing (job_run) is kept.", 1, 3650,
              scope="global", unit="days"),
    ConfigKey("retention.batch_rows", "int", 1000, "Rows deleted per retention batch (one short transaction "
              "each, so enqueues never wait long).", 100, 50000, scope="global", unit="rows"),
    ConfigKey("cleanup.pending_config_max_age_hours", "int", 72, "Pending configurations never applied "
              "are removed after this many hours.", 1, 8760, scope="global", unit="hours"),
    ConfigKey("periodic.disabled", "list[str]", [], "Steps of periodic_jobs to skip (retention, archive, "
              "cleanup).", scope="global"),
    ConfigKey("poll.hot.interval_s", "float", 60.0, "Seconds between hot message-log polls of a tenant "
              "(0 disables).", 0, _DAY, unit="s"),
    ConfigKey("poll.cold.interval_s", "float", 3600.0, "Seconds between cold backfill polls (0 disables).",
              0, 7 * _DAY, unit="s"),
    ConfigKey("poll.payloads.interval_s", "float", 300.0, "Seconds between payload listing polls "
              "(0 disables).", 0, _DAY, unit="s"),
    ConfigKey("poll.packages.interval_s", "float", 3600.0, "Seconds between integration package polls "
              "(0 disables).", 0, 7 * _DAY, unit="s"),
    ConfigKey("poll.deep_sync.interval_s", "float", 21600.0, "Seconds between deep iflow artifact syncs "
              "(0 disables).", 0, 30 * _DAY, unit="s"),
    # numbers (issue 18): the settle pass that re-reads recent history for late-arriving message logs.
    ConfigKey("poll.settle.interval_s", "float", 600.0, "Seconds between settle passes of a tenant, which "
              "re-read recent message logs so logs CPI shows late are stored (0 disables).", 0, _DAY, unit="s"),
    ConfigKey("ingest.settle.recent_s", "int", 7200, "Seconds of history every settle pass re-reads.",
              60, 7 * 86400, unit="s"),
    ConfigKey("ingest.settle.day_s", "int", 86400, "Seconds of history the deep settle pass re-reads.",
              60, 30 * 86400, unit="s"),
    ConfigKey("ingest.settle.day_every_s", "int", 3600, "Seconds between deep settle passes (a settle pass "
              "that is due for it reads ingest.settle.day_s instead of ingest.settle.recent_s).",
              60, 30 * 86400, unit="s"),
    # runs itself (issue 11): keys read outside this module that the settings page must offer too
    ConfigKey("ingest.cold_days", "int", 7, "Days of message logs the cold backfill fetches for a tenant "
              "(when a run is not given a depth).", 1, 366, unit="days"),
):
    register(_key)
