"""Count requests, server errors and milliseconds per route template in Redis (``API_STATS``).

``api_metrics_collect_task`` reads the hash and turns it into a time series, so replicas of the API
simply add to the same counters. Counts are gathered in memory and flushed once a second (one Redis
round trip per second instead of one per request); a Redis hiccup never fails a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from redis.asyncio import Redis
from redis.exceptions import RedisError

from admin_api.metrics.prometheus import ApiRequestMetrics
from core.queues.keys import API_STATS

__all__ = ["ApiStatsBuffer", "ApiStatsMiddleware", "stats_fields"]

log = logging.getLogger(__name__)


def stats_fields(method: str, template: str) -> tuple[str, str, str]:
    """The three hash fields of one route: count, errors (5xx) and total milliseconds."""
    route = f"{method} {template}"
    return f"count:{route}", f"errors:{route}", f"ms:{route}"


@dataclass(slots=True)
class ApiStatsBuffer:
    """Per-process counters waiting for the next flush (one per app instance, not module state)."""

    interval_s: float = 1.0
    pending: Counter[str] = field(default_factory=Counter)
    prometheus: ApiRequestMetrics = field(default_factory=ApiRequestMetrics)

    def add(self, method: str, template: str, status: int, elapsed_ms: int) -> None:
        self.prometheus.observe(method, template, status, elapsed_ms / 1000)
        count, errors, ms = stats_fields(method, template)
        self.pending[count] += 1
        self.pending[ms] += elapsed_ms
        if status >= 500:
            self.pending[errors] += 1

    async def flush(self, redis: Redis) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, Counter()
        try:
            pipe = redis.pipeline(transaction=False)
            for name, value in batch.items():
                pipe.hincrby(API_STATS, name, value)
            await pipe.execute()
        except (RedisError, OSError) as exc:
            log.debug("API stats not recorded: %s", exc)

    async def run(self, redis: Redis) -> None:
        """Flush every ``interval_s`` until cancelled, then once more."""
        try:
            while True:
                await asyncio.sleep(self.interval_s)
                await self.flush(redis)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.flush(redis))


class ApiStatsMiddleware(ASGIMiddleware):
    """Adds one request to the route's counters once the response is sent."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await next_app(scope, receive, capture)
        finally:
            app: Any = scope["app"]
            stats = getattr(getattr(app.state, "ctx", None), "stats", None)
            if stats is not None:
                stats.add(str(scope.get("method", "GET")), str(scope.get("path_template") or "unmatched"), status,
                          int((time.perf_counter() - started) * 1000))
