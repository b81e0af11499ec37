"""The API's dependency watch: one line in the log when Redis or PostgreSQL becomes unreachable and
one when it is back, however many requests failed (and were answered 503) in between.

Request handlers do not log a 503 each (an outage under load would flood the log); this task pings
both every few seconds in the background instead, so the log tells an outage's start and end even
when no request arrives. It never stops the API: it only observes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from sqlalchemy import Engine, text

from core.errors import ServiceUnavailable
from core.outage import DATABASE, REDIS, OutageLog

__all__ = ["watch_dependencies"]

log = logging.getLogger(__name__)


def _select_one(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("select 1"))


async def watch_dependencies(redis: Redis, engine: Engine, *, every_s: float = 2.0) -> None:
    """Run until cancelled."""
    outages = OutageLog(log, "admin API")
    while True:
        probes: tuple[tuple[str, Callable[[], Awaitable[object]]], ...] = (
            (REDIS, redis.ping), (DATABASE, lambda: asyncio.to_thread(_select_one, engine)))
        for name, probe in probes:
            try:
                await asyncio.wait_for(probe(), timeout=every_s * 2)
            except TimeoutError as exc:
                outages.failed(name, ServiceUnavailable(f"no answer within {every_s * 2:g} s", dependency=name))
                log.debug("admin API: %s probe timed out: %s", name, exc)
            except Exception as exc:  # a driver error names its dependency; anything else is logged
                if outages.failed(name, exc) is None:
                    log.warning("admin API: %s check failed: %s", name, exc)
            else:
                outages.recovered(name)
        await asyncio.sleep(every_s)
