"""A tenant's "test connection": fetch a token and one page of message logs, and say what happened.

Short on purpose: one attempt per call and a short timeout, so the operator sees the tenant's answer
(or its error) within seconds instead of after the retry budget of a polling job. The reply carries
the CPI client's own error text, which names the endpoint but never the secret or a token.
"""

from __future__ import annotations

import contextlib
import time
from datetime import datetime, timedelta

import httpx
import msgspec
from sqlalchemy.orm import Session

from admin_api.audit.services import audit
from admin_api.context import ApiContext, Principal
from admin_api.tenants.services import load_tenant
from core.cpi.auth import TokenCache
from core.cpi.client import CpiClient
from core.cpi.errors import CpiError
from core.cpi.transport import RetryPolicy
from core.db.models.base import utcnow
from core.db.models.tenants import Tenant

__all__ = ["ConnectionCheck", "check_connection"]

POLICY = RetryPolicy(max_attempts=1, timeout_s=8.0)
PAGE_SIZE = 10
WINDOW = timedelta(days=1)


class ConnectionCheck(msgspec.Struct, kw_only=True):
    """``ok`` with what was fetched, or the CPI error (type, HTTP status, message) that stopped the test."""

    tenant_id: int
    ok: bool
    auth_type: str
    token_fetched: bool
    logs_on_page: int | None
    newest_log_end: datetime | None
    elapsed_ms: int
    error_type: str | None = None
    error_status: int | None = None
    error: str | None = None


async def _fetch_page(cpi: CpiClient) -> tuple[int, datetime | None]:
    since = utcnow() - WINDOW
    async with contextlib.aclosing(cpi.iter_message_logs(since, page_size=PAGE_SIZE)) as pages:
        async for page in pages:
            ends = [log.log_end for log in page.logs if log.log_end is not None]
            return len(page.logs), max(ends) if ends else None
    return 0, None


async def check_connection(ctx: ApiContext, who: Principal, tenant_id: int) -> ConnectionCheck:
    """Run the test against the tenant as stored (its secret decrypted only for the call); audit the result."""
    tenant: Tenant = await ctx.read(lambda s: load_tenant(s, tenant_id))
    tokens = TokenCache()
    cpi = CpiClient.for_tenant(tenant, ctx.secrets, policy=POLICY, token_cache=tokens)
    oauth = tenant.auth_type != "basic" and bool(tenant.token_url)
    started = time.monotonic()
    count: int | None = None
    newest: datetime | None = None
    failure: Exception | None = None
    try:
        async with cpi:
            count, newest = await _fetch_page(cpi)
    except (CpiError, httpx.HTTPError, httpx.InvalidURL) as exc:  # an unusable URL is the tenant's problem too
        failure = exc
    token = tokens.get(tenant.token_url, tenant.client_id) if oauth and tenant.token_url else None
    result = ConnectionCheck(
        tenant_id=tenant.id, ok=failure is None, auth_type="oauth" if oauth else "basic",
        token_fetched=token is not None, logs_on_page=count, newest_log_end=newest,
        elapsed_ms=int((time.monotonic() - started) * 1000),
        error_type=type(failure).__name__ if failure else None,
        error_status=failure.status if isinstance(failure, CpiError) else None,
        error=str(failure) if failure else None)

    def record(session: Session) -> None:
        audit(session, who, "tenant.test_connection", f"tenant:{tenant.id}",
              {"ok": result.ok, "error_type": result.error_type, "error_status": result.error_status})

    await ctx.write(record)
    return result
