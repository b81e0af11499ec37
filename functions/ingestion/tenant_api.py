"""Opening a tenant's CPI client inside a job, and turning CPI errors into job errors.

A missing or disabled tenant can never succeed by retrying (PermanentJobError). CPI errors that a
later attempt can fix (429, 5xx, timeouts, malformed replies) become RetryableJobError so the
catalog's backoff applies; the rest (auth, 404, bad request) are permanent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.orm import Session, sessionmaker

from core.cpi import CpiClient, CpiError, RetryPolicy
from core.db.models.tenants import Tenant
from core.errors import PermanentJobError, RetryableJobError
from core.secrets import SecretBox
from core.settings import Settings

__all__ = ["cpi_error_to_job_error", "load_tenant", "tenant_client"]


def load_tenant(sessions: sessionmaker[Session], tenant_id: int) -> Tenant:
    """The active tenant row, or PermanentJobError naming why it cannot be polled."""
    with sessions() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise PermanentJobError(f"tenant {tenant_id} does not exist")
        if not tenant.active:
            raise PermanentJobError(f"tenant {tenant_id} ({tenant.name}) is disabled")
        session.expunge(tenant)
        return tenant


def cpi_error_to_job_error(exc: CpiError) -> RetryableJobError | PermanentJobError:
    """Transient CPI failures are retried by the runtime; the others fail the job at once."""
    kind = RetryableJobError if exc.transient else PermanentJobError
    return kind(f"{type(exc).__name__}: {exc}")


@asynccontextmanager
async def tenant_client(settings: Settings, sessions: sessionmaker[Session],
                        tenant_id: int) -> AsyncIterator[CpiClient]:
    """A CPI client for the tenant; CPI errors raised inside the block leave it as job errors."""
    tenant = await asyncio.to_thread(load_tenant, sessions, tenant_id)
    policy = RetryPolicy(timeout_s=settings.cpi_timeout_seconds)
    client = CpiClient.for_tenant(tenant, SecretBox(settings), policy=policy)
    try:
        yield client
    except CpiError as exc:
        raise cpi_error_to_job_error(exc) from exc
    finally:
        await client.aclose()
