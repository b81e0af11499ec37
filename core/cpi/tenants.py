"""One CPI client per tenant per process, kept across jobs.

A client made per job would open a new connection pool, fetch a new OAuth token and start a new rate
limiter every time: a hundred hot polls cost a hundred token requests, and SAP's per-tenant limits
were enforced per job instead of per tenant. Here a process keeps one client per tenant (and retry
policy): its pool and token stay warm, its rate limit is the Redis-shared per-tenant budget
(:class:`SharedRateLimits`, so every worker process of every replica draws from one budget and honours
one Retry-After pause), and every call is counted in the process's CPI call metrics.

A tenant whose connection settings change (URLs, client id, secret, auth type, rate limit) gets a new
client on its next job; the old one is closed when the process closes the registry, since jobs that
started before the change may still be using it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.orm import Session, sessionmaker

from core.cpi.auth import TokenCache
from core.cpi.client import CpiClient
from core.cpi.metrics import CpiCallMetrics, TenantCallObserver
from core.cpi.metrics_store import CpiMetricsFlusher
from core.cpi.ratelimit import RateLimits, TenantRateLimits
from core.cpi.shared_limits import SharedRateLimits
from core.cpi.transport import RetryPolicy
from core.db.models.tenants import Tenant
from core.secrets import SecretBox

__all__ = ["TenantClients"]

log = logging.getLogger("core.cpi")


@dataclass(frozen=True, slots=True)
class _Fingerprint:
    """Everything about a tenant row that changes what its client sends where."""

    api_url: str
    token_url: str | None
    auth_type: str
    client_id: str
    secret_encrypted: str
    rate_limit_per_s: float | None

    @classmethod
    def of(cls, tenant: Tenant) -> _Fingerprint:
        return cls(tenant.api_url, tenant.token_url, tenant.auth_type, tenant.client_id,
                   tenant.client_secret_encrypted, tenant.rate_limit_per_s)


class TenantClients:
    """The process's CPI clients by tenant, their shared token cache and call metrics.

    ``redis`` None keeps rate limits in the process (tools and tests that run one process);
    ``sessions`` None keeps the call metrics in memory only (nothing flushes them).
    """

    def __init__(self, secrets: SecretBox, *, redis: Redis | None = None,
                 sessions: sessionmaker[Session] | None = None, flush_interval_s: float = 5.0) -> None:
        self._secrets = secrets
        self._redis = redis
        self._sessions = sessions
        self._flush_interval_s = flush_interval_s
        self.metrics = CpiCallMetrics()
        self.tokens = TokenCache()
        self._clients: dict[tuple[int, RetryPolicy], tuple[_Fingerprint, CpiClient]] = {}
        self._retired: list[CpiClient] = []
        self._flusher: CpiMetricsFlusher | None = None
        self._flush_task: asyncio.Task[None] | None = None

    def client_for(self, tenant: Tenant, policy: RetryPolicy) -> CpiClient:
        """The tenant's client for ``policy``; made on first use or after the tenant's settings changed."""
        self._start_flusher()
        key = (tenant.id, policy)
        fingerprint = _Fingerprint.of(tenant)
        known = self._clients.get(key)
        if known is not None and known[0] == fingerprint:
            return known[1]
        if known is not None:
            self._retired.append(known[1])
            log.info("tenant %s connection settings changed; using a new CPI client", tenant.id)
        client = CpiClient.for_tenant(tenant, self._secrets, policy=policy, limits=self._limits(tenant),
                                      token_cache=self.tokens, observer=TenantCallObserver(self.metrics, tenant.id))
        self._clients[key] = (fingerprint, client)
        return client

    def _limits(self, tenant: Tenant) -> RateLimits:
        if self._redis is None:
            return TenantRateLimits(tenant.rate_limit_per_s)
        return SharedRateLimits(self._redis, tenant.id, tenant.rate_limit_per_s)

    def _start_flusher(self) -> None:
        if self._sessions is None or self._flush_task is not None:
            return
        self._flusher = CpiMetricsFlusher(self.metrics, self._sessions, self._flush_interval_s)
        self._flush_task = asyncio.get_running_loop().create_task(self._flusher.run(), name="cpi-metrics-flusher")

    async def flush(self) -> int:
        """Write the counters now (tests, shutdown); 0 when this registry keeps them in memory only."""
        return await self._flusher.flush() if self._flusher is not None else 0

    async def aclose(self) -> None:
        """Stop the flusher after a last flush, and close every client's connection pool."""
        if self._flush_task is not None:
            self._flush_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush_task
            await self.flush()
        clients = [client for _, client in self._clients.values()] + self._retired
        self._clients.clear()
        self._retired.clear()
        await asyncio.gather(*(client.aclose() for client in clients), return_exceptions=True)
