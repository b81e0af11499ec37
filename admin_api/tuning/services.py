"""Read, preview and apply worker tuning. Apply updates row 1 of ``worker_tuning_settings``, records a
``tuning.changed`` event and an audit entry, then publishes on ``TUNING_CHANNEL`` so running workers
resize at once (they also re-read the row every ``tuning_refresh_seconds`` in case the message is lost)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.audit.services import audit
from admin_api.context import ApiContext, Principal
from admin_api.errors import BadInput, Conflict
from admin_api.tuning.schemas import TuningChange
from core.db.models.base import utcnow
from core.db.models.tenants import Tenant
from core.db.models.tuning import WorkerTuningSettings
from core.events.outbox import record_event
from core.pressure.advisor import Advice, advise
from core.pressure.report import bottleneck_report
from core.queues.catalog import DEFAULT_PROFILE, GROUPS, PROFILES, concurrency_for
from core.queues.keys import TUNING_CHANNEL
from core.settings import Settings

__all__ = ["apply_change", "current_tuning", "preview_change"]

ROW_ID = 1


def _row(session: Session) -> WorkerTuningSettings:
    row = session.get(WorkerTuningSettings, ROW_ID)
    if row is None:
        row = WorkerTuningSettings(id=ROW_ID, active_profile=DEFAULT_PROFILE, overrides={})
        session.add(row)
    return row


def _effective(profile: str, overrides: dict[str, int]) -> dict[str, int]:
    return {g: concurrency_for(g, profile, overrides) for g in GROUPS}


def _valid_overrides(raw: dict[str, Any]) -> dict[str, int]:
    """Stored overrides minus groups the catalog no longer has (never fail a read on old data)."""
    return {g: int(n) for g, n in (raw or {}).items() if g in GROUPS}


def current_tuning(session: Session) -> dict[str, Any]:
    row = session.get(WorkerTuningSettings, ROW_ID)
    profile = row.active_profile if row and row.active_profile in PROFILES else DEFAULT_PROFILE
    overrides = _valid_overrides(row.overrides if row else {})
    return {
        "active_profile": profile,
        "overrides": overrides,
        "profiles": {name: dict(table) for name, table in PROFILES.items()},
        "effective": _effective(profile, overrides),
        "updated_by": row.updated_by if row else None,
        "updated_at": row.updated_at.isoformat() if row and row.updated_at else None,
    }


def check_change(change: TuningChange) -> None:
    if change.profile not in PROFILES:
        raise BadInput("profile", f"unknown profile {change.profile!r}; known: {', '.join(PROFILES)}")
    for group in change.overrides:
        if group not in GROUPS:
            raise BadInput(f"overrides.{group}", f"unknown worker group {group!r}")


def _advice(session: Session, settings: Settings, before: dict[str, int], after: dict[str, int]) -> Advice:
    """What the change adds against the headroom measured now (``core.pressure.advisor``)."""
    if all(after[g] <= before[g] for g in after):
        return Advice([])
    report = bottleneck_report(session, backlog_per_slot=settings.scaling_backlog_per_slot)
    caps = {tid: cap for tid, cap in session.execute(select(Tenant.id, Tenant.rate_limit_per_s))}
    return advise(report, before, after, caps)


def preview_change(session: Session, change: TuningChange, settings: Settings) -> dict[str, Any]:
    """Per group: concurrency now and after the change, the load it adds and warnings; nothing saved."""
    check_change(change)
    now = current_tuning(session)
    after = _effective(change.profile, change.overrides)
    advice = _advice(session, settings, now["effective"], after)
    estimates = {e.group: e for e in advice.estimates}
    groups = [{"group": g, "queues": list(GROUPS[g].queues), "before": now["effective"][g], "after": after[g],
               "changed": now["effective"][g] != after[g], "adds": _adds(estimates.get(g))} for g in GROUPS]
    return {"profile": change.profile, "overrides": change.overrides, "groups": groups,
            "changed_groups": sum(1 for g in groups if g["changed"]), "warnings": advice.warnings}


def _adds(estimate: Any) -> dict[str, Any] | None:
    if estimate is None:
        return None
    return {"slots": estimate.added_slots, "db_connections": estimate.extra_db_connections,
            "cpi_requests_per_s": round(estimate.extra_cpi_requests_per_s, 2),
            "redis_ops_per_s": round(estimate.extra_redis_ops_per_s, 1)}


def _save(session: Session, who: Principal, change: TuningChange, settings: Settings) -> dict[str, Any]:
    preview = preview_change(session, change, settings)
    if preview["warnings"] and not change.confirm_warnings:
        raise Conflict(detail="the change has warnings; preview it, then apply with confirm_warnings=true",
                       extra={"warnings": preview["warnings"]})
    row = _row(session)
    before = {"profile": row.active_profile, "overrides": dict(row.overrides or {})}
    row.active_profile = change.profile
    row.overrides = dict(change.overrides)
    row.updated_by = who.name
    row.updated_at = utcnow()
    payload = {"profile": change.profile, "overrides": dict(change.overrides), "before": before, "by": who.name,
               "concurrency": {g["group"]: g["after"] for g in preview["groups"]},
               "warnings": preview["warnings"], "confirmed_warnings": bool(preview["warnings"])}
    record_event(session, "tuning.changed", payload)
    audit(session, who, "tuning.apply", "worker_tuning_settings:1", payload)
    return preview


async def apply_change(ctx: ApiContext, who: Principal, change: TuningChange) -> dict[str, Any]:
    check_change(change)
    settings = ctx.resources.settings
    preview = await ctx.write(lambda s: _save(s, who, change, settings))
    message = {"profile": change.profile, "overrides": dict(change.overrides), "by": who.name}
    receivers = await ctx.resources.redis.publish(TUNING_CHANNEL, json.dumps(message))
    return {**preview, "applied": True, "notified_workers": int(receivers)}
