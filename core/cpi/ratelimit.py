"""Client-side rate limits per tenant and endpoint family (SAP's published per-tenant limits).

SAP limits requests per second per tenant by API family (cpi-api.md section 5): message processing
logs 1,000/s, runtime artifacts 120/s, design-time 20/s. Staying under them avoids 429 storms; a
429 with Retry-After pauses the whole family, so concurrent calls do not keep hitting the wall.
Share one :class:`TenantRateLimits` between clients of the same tenant inside a process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol

__all__ = [
    "DEFAULT_LIMITS_PER_S",
    "EndpointFamily",
    "RateGate",
    "RateLimits",
    "TenantRateLimits",
    "TokenBucket",
    "effective_limits",
    "family_for_path",
]


class EndpointFamily(StrEnum):
    """Which of SAP's per-tenant limits a request counts against."""

    MONITORING = "monitoring"
    RUNTIME = "runtime"
    DESIGNTIME = "designtime"


DEFAULT_LIMITS_PER_S: Mapping[EndpointFamily, float] = {
    EndpointFamily.MONITORING: 1000.0,
    EndpointFamily.RUNTIME: 120.0,
    EndpointFamily.DESIGNTIME: 20.0,
}


def family_for_path(path: str) -> EndpointFamily:
    """The limit family of a path relative to the API root."""
    if path.startswith(("IntegrationPackages", "IntegrationDesigntimeArtifacts")):
        return EndpointFamily.DESIGNTIME
    if path.startswith("IntegrationRuntimeArtifacts"):
        return EndpointFamily.RUNTIME
    return EndpointFamily.MONITORING


class TokenBucket:
    """Async token bucket: ``rate_per_s`` steady, bursts of ``burst``; waiters are served in order."""

    def __init__(self, rate_per_s: float, burst: float | None = None) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.rate_per_s = rate_per_s
        self.burst = burst if burst is not None else max(1.0, rate_per_s / 5)
        self._tokens = self.burst
        self._updated = time.monotonic()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until one request may be sent."""
        async with self._lock:
            now = time.monotonic()
            if now < self._paused_until:
                await asyncio.sleep(self._paused_until - now)
                now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate_per_s)
            self._updated = now
            if self._tokens < 1.0:
                await asyncio.sleep((1.0 - self._tokens) / self.rate_per_s)
                self._tokens = 1.0
                self._updated = time.monotonic()
            self._tokens -= 1.0

    async def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the server asked us to, with Retry-After)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)


class RateGate(Protocol):
    """What the transport needs from a limiter: wait for a slot, and hold everyone back after a 429."""

    async def acquire(self) -> None: ...

    async def pause(self, seconds: float) -> None: ...


class RateLimits(Protocol):
    """A gate per endpoint family; :class:`TenantRateLimits` in-process, ``SharedRateLimits`` via Redis."""

    limits: dict[EndpointFamily, float]

    def bucket(self, family: EndpointFamily) -> RateGate: ...


def effective_limits(
    cap_per_s: float | None, limits: Mapping[EndpointFamily, float] | None = None
) -> dict[EndpointFamily, float]:
    """SAP's per-family limits (or ``limits``), each lowered to the tenant's own cap when one is set."""
    base = dict(limits or DEFAULT_LIMITS_PER_S)
    return {family: min(rate, cap_per_s) if cap_per_s else rate for family, rate in base.items()}


class TenantRateLimits:
    """One in-process bucket per endpoint family; ``cap_per_s`` (the tenant's configured limit) lowers all."""

    def __init__(self, cap_per_s: float | None = None, limits: Mapping[EndpointFamily, float] | None = None) -> None:
        self.limits = effective_limits(cap_per_s, limits)
        self._buckets = {family: TokenBucket(rate) for family, rate in self.limits.items()}

    def bucket(self, family: EndpointFamily) -> TokenBucket:
        return self._buckets[family]
