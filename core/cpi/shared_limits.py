"""Per-tenant CPI rate limits shared by every worker process through Redis.

SAP counts requests per tenant, not per process: with several worker replicas polling one tenant,
in-process buckets would each allow the full limit. Here every request takes a slot in a Redis
counter of the current second (``INCR`` on a key per tenant, family and second; fixed one-second
windows, so a burst at a window edge can reach twice the limit for an instant). A 429 with
Retry-After sets a pause key that holds every process back. One pipelined round trip per request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from redis.asyncio import Redis

from core.cpi.ratelimit import EndpointFamily, effective_limits
from core.queues.keys import cpi_pause_key, cpi_rate_window_key

__all__ = ["SharedRateGate", "SharedRateLimits"]


class SharedRateGate:
    """One endpoint family of one tenant: at most ``rate_per_s`` requests per second, across processes."""

    def __init__(self, redis: Redis, tenant: str, family: EndpointFamily, rate_per_s: float) -> None:
        self._redis = redis
        self._tenant = tenant
        self._family = family.value
        self.rate_per_s = rate_per_s
        self._pause_key = cpi_pause_key(tenant, self._family)

    async def acquire(self) -> None:
        """Wait until this second's window (of any process) has room, and no pause is set."""
        await self.take()

    async def take(self) -> int:
        """``acquire``, returning the window (epoch second) the request was counted in: the limit holds
        per window; a request granted at a window's very end may go out in the next wall-clock second."""
        while True:
            now = time.time()
            window = int(now)
            key = cpi_rate_window_key(self._tenant, self._family, window)
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, 2)
                pipe.pttl(self._pause_key)
                count, _, pause_ms = await pipe.execute()
            if pause_ms > 0:
                await asyncio.sleep(pause_ms / 1000)
            elif count <= self.rate_per_s:
                return window
            else:
                await asyncio.sleep(window + 1 - now)

    async def pause(self, seconds: float) -> None:
        """Hold every process back for ``seconds`` (never shortens a longer pause already set)."""
        millis = max(1, int(seconds * 1000))
        current = await self._redis.pttl(self._pause_key)
        if current < millis:
            await self._redis.set(self._pause_key, "1", px=millis)


class SharedRateLimits:
    """The Redis-backed counterpart of ``TenantRateLimits``: pass it as ``CpiClient(limits=...)``.

    ``tenant`` names the tenant in the keys (its id); ``cap_per_s`` is its configured limit.
    """

    def __init__(
        self,
        redis: Redis,
        tenant: str | int,
        cap_per_s: float | None = None,
        limits: Mapping[EndpointFamily, float] | None = None,
    ) -> None:
        self.limits = effective_limits(cap_per_s, limits)
        self._gates = {family: SharedRateGate(redis, str(tenant), family, rate) for family, rate in self.limits.items()}

    def bucket(self, family: EndpointFamily) -> SharedRateGate:
        return self._gates[family]
