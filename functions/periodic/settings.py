"""The ``config_ext`` keys the periodic jobs read, with their defaults (documented in docs/families.md).

A per-tenant row (``tenant_id`` set) wins over the global row (``tenant_id`` NULL), which wins over
the default here, so operators can keep one tenant's logs longer without touching the others.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models.scheduling import ConfigExt

__all__ = ["DEFAULTS", "read_config", "read_int"]

DEFAULTS: dict[str, Any] = {
    "retention.message_log_days": 30,
    "archive.before_prune": True,
    "retention.metrics_days": 30,
    "retention.stats_hour_days": 90,
    "retention.resolved_alert_days": 90,
    "retention.agent_report_days": 90,
    "retention.chat_days": 180,
    "cleanup.pending_config_max_age_hours": 72,
    "periodic.disabled": [],
}


def read_config(session: Session, key: str, tenant_id: int | None = None) -> Any:
    """The tenant's value, else the global one, else the documented default."""
    rows = session.execute(select(ConfigExt.tenant_id, ConfigExt.value).where(ConfigExt.key == key)).all()
    by_tenant = {tid: value for tid, value in rows}
    if tenant_id is not None and tenant_id in by_tenant:
        return by_tenant[tenant_id]
    if None in by_tenant:
        return by_tenant[None]
    return DEFAULTS[key]


def read_int(session: Session, key: str, tenant_id: int | None = None) -> int:
    """An integer setting; a malformed stored value falls back to the default instead of failing a job."""
    value = read_config(session, key, tenant_id)
    try:
        return int(value)
    except (TypeError, ValueError):
        return int(DEFAULTS[key])
