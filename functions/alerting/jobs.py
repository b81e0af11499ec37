"""``check_and_create_alerts``: evaluate every enabled rule, update alerts, fetch details, notify."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.cpi.errors import CpiError
from core.db.models.alerting import AlertRule
from core.db.models.base import utcnow
from core.db.models.tenants import Tenant
from core.queues.catalog import CHECK_AND_CREATE_ALERTS, GET_MESSAGE_DETAILS_ALERT
from core.queues.enqueue import EnqueueRequest
from functions.alerting.artifacts import artifact_packages, artifacts_in_error
from functions.alerting.conditions import (
    CONDITIONS,
    SCOPES,
    Finding,
    failed_messages,
    group_artifacts,
    no_messages,
)
from functions.alerting.engine import Changes, apply_findings
from functions.alerting.notifications import deliver_pending
from functions.registry import JobFunction, implemented_in, implements
from functions.runner.context import JobContext

__all__ = ["JOBS", "check_and_create_alerts"]


@dataclass(frozen=True, slots=True)
class RuleRef:
    """What the job needs to know about a rule before evaluating it."""

    id: int
    tenant_id: int
    condition: str
    enabled: bool
    valid: bool  # known condition and scope; an invalid rule is skipped, never evaluated wrongly


def _rules(sessions: sessionmaker[Session], tenant_id: int | None) -> list[RuleRef]:
    with sessions() as session:
        query = select(AlertRule.id, AlertRule.tenant_id, AlertRule.condition, AlertRule.scope, AlertRule.enabled)
        if tenant_id is not None:
            query = query.where(AlertRule.tenant_id == tenant_id)
        return [RuleRef(r, t, c, bool(e), c in CONDITIONS and scope in SCOPES)
                for r, t, c, scope, e in session.execute(query.order_by(AlertRule.id))]


async def _artifact_errors(ctx: JobContext, tenant_ids: set[int]) -> dict[int, dict[str, str] | str]:
    """Per tenant: artifacts in ERROR, or the CPI error text when the tenant could not be asked."""
    def load(tid: int) -> Tenant | None:
        with ctx.resources.sessions() as session:
            return session.get(Tenant, tid)

    found: dict[int, dict[str, str] | str] = {}
    for tid in sorted(tenant_ids):
        tenant = await asyncio.to_thread(load, tid)
        if tenant is None:
            continue
        try:
            found[tid] = await artifacts_in_error(ctx.resources, tenant)
        except CpiError as exc:
            found[tid] = str(exc)
    return found


def _evaluate(sessions: sessionmaker[Session], rule_id: int, artifacts: dict[str, str] | None) -> Changes:
    """One rule in one transaction: compute its findings and apply them."""
    now = utcnow()
    with sessions.begin() as session:
        rule = session.get(AlertRule, rule_id)
        if rule is None:
            return Changes()
        findings: list[Finding] = []
        if not rule.enabled:
            findings = []  # a disabled rule resolves what it had opened
        elif rule.condition == "failed_messages":
            findings = failed_messages(session, rule, now)
        elif rule.condition == "no_messages":
            findings = no_messages(session, rule, now)
        elif rule.condition == "artifact_error" and artifacts is not None:
            findings = group_artifacts(rule, artifacts, artifact_packages(session, rule.tenant_id))
        return apply_findings(session, rule, findings, now)


async def _fetch_details(ctx: JobContext, details: list[tuple[int, int, list[str]]]) -> int:
    spec = GET_MESSAGE_DETAILS_ALERT
    requests = [EnqueueRequest(spec, {"tenant_id": tid, "message_guids": guids}, tenant_id=tid,
                               dedup_key=f"alert_details:{alert_id}:"
                                         f"{hashlib.sha1(','.join(guids).encode()).hexdigest()[:12]}")
                for alert_id, tid, guids in details]
    return len(await ctx.resources.enqueuer.enqueue_many(requests))


@implements(CHECK_AND_CREATE_ALERTS)
async def check_and_create_alerts(ctx: JobContext, tenant_id: int | None = None) -> dict[str, Any]:
    """Evaluate the rules (of one tenant, or all); a tenant whose CPI API fails keeps its artifact alerts."""
    rules = await asyncio.to_thread(_rules, ctx.resources.sessions, tenant_id)
    artifacts = await _artifact_errors(ctx, {r.tenant_id for r in rules if r.condition == "artifact_error"
                                             and r.enabled and r.valid})
    total, details, skipped = Changes(), [], []
    for rule in rules:
        errors = artifacts.get(rule.tenant_id) if rule.condition == "artifact_error" else None
        unanswered = rule.condition == "artifact_error" and not isinstance(errors, dict)
        if rule.enabled and (not rule.valid or unanswered):  # keep its alerts as they are
            skipped.append(rule.id)
            continue
        changes = await asyncio.to_thread(_evaluate, ctx.resources.sessions, rule.id,
                                          errors if isinstance(errors, dict) else None)
        total.opened, total.updated, total.resolved = (total.opened + changes.opened,
                                                       total.updated + changes.updated,
                                                       total.resolved + changes.resolved)
        details += [(alert_id, rule.tenant_id, guids) for alert_id, guids in changes.details]
    enqueued = await _fetch_details(ctx, details)
    sent, failed = await deliver_pending(ctx.settings, ctx.resources.sessions, tenant_id)
    return {"rules": len(rules), "opened": total.opened, "updated": total.updated, "resolved": total.resolved,
            "details_enqueued": enqueued, "notified": sent, "notify_failed": failed, "skipped_rules": skipped}


JOBS: dict[str, JobFunction] = implemented_in(__name__)  # the table, derived from @implements
