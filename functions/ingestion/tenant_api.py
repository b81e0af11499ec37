"""Opening a tenant's CPI client inside a job, and turning CPI errors into job errors.

The client comes from the process's registry (``resources.cpi``): one per tenant, kept across jobs, so
its connections and OAuth token are reused and its rate limit is the tenant's Redis-shared budget.
A missing or disabled tenant can never succeed by retrying (PermanentJobError). CPI errors that a
later attempt can fix (429, 5xx, timeouts, malformed replies) become RetryableJobError so the
catalog's backoff applies; the rest (auth, 404, bad request) are permanent. :func:`reports_cpi_calls`
adds what a job's CPI calls cost to its result (``cpi: {requests, retries, throttled_ms}``).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.cpi import CpiClient, CpiError, RetryPolicy
from core.cpi.metrics import job_tally
from core.db.models.tenants import Tenant
from core.errors import PermanentJobError, RetryableJobError
from core.resources import Resources
from functions.registry import JobFunction

__all__ = ["cpi_error_to_job_error", "load_tenant", "reports_cpi_calls", "tenant_client"]


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
async def tenant_client(resources: Resources, tenant_id: int,
                        policy: RetryPolicy | None = None) -> AsyncIterator[CpiClient]:
    """The tenant's shared CPI client; CPI errors raised inside the block leave it as job errors.

    The client stays open after the block (other jobs of this process use it too).
    """
    tenant = await asyncio.to_thread(load_tenant, resources.sessions, tenant_id)
    policy = policy or RetryPolicy(timeout_s=resources.settings.cpi_timeout_seconds)
    client = resources.cpi.client_for(tenant, policy)
    try:
        yield client
    except CpiError as exc:
        raise cpi_error_to_job_error(exc) from exc


def reports_cpi_calls(function: JobFunction) -> JobFunction:
    """Wrap a job so a dict result gains ``cpi: {requests, retries, throttled_ms}`` when it called CPI."""
    @functools.wraps(function)
    async def counted(*args: Any, **kwargs: Any) -> Any:
        with job_tally() as tally:
            result = await function(*args, **kwargs)
        if isinstance(result, dict) and tally.requests:
            return {**result, "cpi": tally.as_dict()}
        return result
    return counted
