"""Admin API metrics: the API keeps cumulative counters in a Redis hash; we store per-route deltas.

Fields of ``API_STATS`` are ``count:<METHOD route>``, ``errors:<METHOD route>`` and ``ms:<METHOD route>``.
Each sample stores the delta since the route's previous sample and the cumulative values it saw; a
counter lower than before means Redis was reset, and the new value is the delta.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db.models.base import utcnow
from core.db.models.platform import ApiMetricSample
from core.queues.catalog import API_METRICS_COLLECT_TASK, API_METRICS_DISPATCH_TASK
from core.queues.keys import API_STATS
from functions.registry import implements
from functions.runner.context import JobContext

__all__ = ["api_metrics_collect_task", "api_metrics_dispatch_task", "parse_api_stats", "store_deltas"]

KINDS = ("count", "errors", "ms")


def parse_api_stats(raw: dict[Any, Any]) -> dict[str, dict[str, float]]:
    """``{route: {"count": n, "errors": n, "ms": n}}`` from the Redis hash (unknown fields ignored)."""
    routes: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(KINDS, 0.0))
    for key, value in raw.items():
        text = key.decode() if isinstance(key, bytes) else str(key)
        kind, _, route = text.partition(":")
        if kind in KINDS and route:
            try:
                routes[route][kind] = float(value)
            except (TypeError, ValueError):
                continue
    return dict(routes)


def _previous(session: Session) -> dict[str, dict[str, float]]:
    latest = select(func.max(ApiMetricSample.id)).group_by(ApiMetricSample.route)
    rows = session.execute(select(ApiMetricSample.route, ApiMetricSample.cumulative)
                           .where(ApiMetricSample.id.in_(latest))).all()
    return {route: dict(cumulative) for route, cumulative in rows}


def _delta(now: float, before: float) -> float:
    return now if now < before else now - before


def store_deltas(session: Session, current: dict[str, dict[str, float]]) -> int:
    """Insert one sample per route whose counters moved; returns how many were stored."""
    previous = _previous(session)
    taken = utcnow()
    stored = 0
    for route, values in sorted(current.items()):
        before = previous.get(route, dict.fromkeys(KINDS, 0.0))
        delta = {k: _delta(values[k], float(before.get(k, 0.0))) for k in KINDS}
        if route in previous and not any(delta.values()):
            continue
        requests = int(delta["count"])
        session.add(ApiMetricSample(taken_at=taken, route=route[:255], requests=requests, errors=int(delta["errors"]),
                                    total_ms=delta["ms"], avg_ms=delta["ms"] / requests if requests else None,
                                    cumulative=values))
        stored += 1
    return stored


@implements(API_METRICS_COLLECT_TASK)
async def api_metrics_collect_task(ctx: JobContext) -> dict[str, int]:
    """Read the counters and store their deltas as a time series."""
    current = parse_api_stats(await ctx.resources.redis.hgetall(API_STATS))

    def store() -> int:
        with ctx.resources.sessions.begin() as session:
            return store_deltas(session, current)

    return {"routes": len(current), "samples": await asyncio.to_thread(store)}


@implements(API_METRICS_DISPATCH_TASK)
async def api_metrics_dispatch_task(ctx: JobContext) -> dict[str, Any]:
    """Enqueue one collection (the controller enqueues this when API metrics are due)."""
    job = await ctx.resources.enqueuer.enqueue(API_METRICS_COLLECT_TASK, {}, dedup_key="api_metrics")
    return {"enqueued": int(job is not None)}
