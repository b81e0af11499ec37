"""What a fresh install runs by itself: the default schedules and each tenant's default alert rule.

The migration ``0801`` creates the schedules once, by name (an operator's change or pause is never
overwritten); ``add_default_rule`` is called wherever a tenant is created (API, ``integramon dev``) and
the migration adds the same rule for tenants that had none. docs/schedules.md describes every default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from core.db.models.alerting import AlertRule

__all__ = ["AGENT_REPORT_FUNCTION", "DEFAULT_RULE", "DEFAULT_SCHEDULES", "DefaultSchedule", "add_default_rule"]

# Agent-report rows are fired only by ``dispatch_due_agent_reports_task`` (one path: job_config_id and
# period_end in every firing), so the controller's schedule runner leaves rows of this function alone.
AGENT_REPORT_FUNCTION = "run_agent_report_task"


@dataclass(frozen=True, slots=True)
class DefaultSchedule:
    """One ``job_config`` row a fresh install starts with (keyed by ``name``)."""

    name: str
    function: str
    interval_seconds: int
    per_tenant: bool = False
    first_after_s: int = 0  # first firing this long after install (alerts and stats wait for the first polls)
    args: dict[str, Any] = field(default_factory=dict)


DEFAULT_SCHEDULES: tuple[DefaultSchedule, ...] = (
    DefaultSchedule("default.alerts", "check_and_create_alerts", 60, per_tenant=True, first_after_s=60),
    DefaultSchedule("default.stats", "stats_update_t", 300, per_tenant=True, first_after_s=90),
    DefaultSchedule("default.periodic_jobs", "periodic_jobs", 3600),
    DefaultSchedule("default.cleanup_config", "cleanup_config_task", 86_400),
    DefaultSchedule("default.cleanup_pending_configs", "cleanup_pending_configs_task", 86_400),
    DefaultSchedule("default.agent_reports", "dispatch_due_agent_reports_task", 60),
)

# failed or escalated messages >= 1 within 15 minutes, tenant-wide, no channel (alerts show in the console)
DEFAULT_RULE: dict[str, Any] = {
    "name": "Failed or escalated messages", "scope": "tenant", "condition": "failed_messages",
    "statuses": ["FAILED", "ESCALATED"], "window_minutes": 15, "threshold": 1, "channels": [],
    "fetch_details": True, "enabled": True,
}


def add_default_rule(session: Session, tenant_id: int) -> AlertRule:
    """Give a new tenant its default rule (in the caller's transaction)."""
    rule = AlertRule(tenant_id=tenant_id, **{k: (list(v) if isinstance(v, list) else v)
                                             for k, v in DEFAULT_RULE.items()})
    session.add(rule)
    session.flush()
    return rule
