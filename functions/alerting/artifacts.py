"""The "deployed artifact in ERROR" condition asks the tenant's CPI API (IntegrationRuntimeArtifacts)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cpi.errors import CpiError
from core.cpi.transport import RetryPolicy
from core.db.models.messages import MessageLog
from core.db.models.tenants import Tenant
from core.resources import Resources

__all__ = ["ALERT_POLICY", "artifact_packages", "artifacts_in_error"]

# Alert runs repeat every few minutes: try a tenant briefly rather than hold up every other rule.
ALERT_POLICY = RetryPolicy(max_attempts=2, backoff_base_s=0.2, backoff_max_s=1.0, timeout_s=10.0)


def _first_line(text: str, limit: int = 200) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0][:limit] if stripped else ""


async def artifacts_in_error(resources: Resources, tenant: Tenant) -> dict[str, str]:
    """Deployed artifact id -> first line of its deployment error, for every artifact in status ERROR.

    Uses the process's shared client of the tenant (its token, pool and rate budget).
    """
    client = resources.cpi.client_for(tenant, ALERT_POLICY)
    artifacts = await client.runtime_artifacts()
    errors: dict[str, str] = {}
    for artifact in artifacts:
        if (artifact.status or "").upper() != "ERROR":
            continue
        try:
            errors[artifact.id] = _first_line(await client.runtime_artifact_error(artifact.id))
        except CpiError:
            errors[artifact.id] = ""
    return errors


def artifact_packages(session: Session, tenant_id: int) -> dict[str, str]:
    """Iflow id -> package id as seen in the tenant's stored message logs (runtime artifacts lack it)."""
    rows = session.execute(select(MessageLog.iflow_id, MessageLog.package_id).where(
        MessageLog.tenant_id == tenant_id, MessageLog.iflow_id.is_not(None),
        MessageLog.package_id.is_not(None)).distinct())
    return {str(flow): str(pkg) for flow, pkg in rows}
