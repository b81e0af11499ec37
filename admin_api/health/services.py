"""Readiness: database and Redis answer, a controller leader exists whose loops are healthy, and at
least one worker is live (its heartbeat key is in Redis): without one, nothing enqueued would run.

Loop health is re-judged from the recorded times by the shared rule (:func:`core.records.loop_healthy`),
because a dead controller cannot mark its own loops unhealthy. This is readiness of the whole
runtime, for an alarm or an operator; liveness of the API process itself is ``/health/live`` (what a
container health check or a load balancer should probe).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from admin_api.context import ApiContext
from core.queues.keys import CONTROLLER_LEADER, CONTROLLER_LOOPS, WORKERS_INDEX, worker_key
from core.records.loop_state import STALL_INTERVALS, LoopState, loop_healthy

__all__ = ["STALL_INTERVALS", "readiness"]


def _db_ok(ctx: ApiContext) -> bool:
    try:
        with ctx.resources.engine.connect() as conn:
            conn.execute(text("select 1"))
        return True
    except SQLAlchemyError:
        return False


async def _controller(ctx: ApiContext) -> dict[str, Any]:
    redis = ctx.resources.redis
    leader_raw = await redis.get(CONTROLLER_LEADER)
    if not leader_raw:
        return {"ok": False, "leader": None, "unhealthy_loops": [], "detail": "no controller holds the lease"}
    leader = leader_raw.decode() if isinstance(leader_raw, bytes) else str(leader_raw)
    now = time.time()
    loops: list[LoopState] = []
    for raw in (await redis.hgetall(CONTROLLER_LOOPS)).values():
        try:
            loop = LoopState.from_json(raw)
        except ValueError:  # msgspec's DecodeError and ValidationError are ValueErrors
            continue
        if loop.controller_id in (None, leader):
            loops.append(loop)
    bad = sorted(loop.name for loop in loops if not loop_healthy(loop, now))
    return {"ok": not bad, "leader": leader, "loops": len(loops), "unhealthy_loops": bad}


async def _workers(ctx: ApiContext) -> dict[str, Any]:
    """How many registered workers still have a heartbeat key (an expired key is a dead worker)."""
    redis = ctx.resources.redis
    members = sorted(m.decode() if isinstance(m, bytes) else str(m) for m in await redis.smembers(WORKERS_INDEX))
    if not members:
        return {"ok": False, "live": 0, "detail": "no worker has registered a heartbeat"}
    async with redis.pipeline(transaction=False) as pipe:
        for member in members:
            pipe.exists(worker_key(member))
        found = await pipe.execute()
    live = sum(1 for n in found if n)
    if not live:
        return {"ok": False, "live": 0, "detail": f"no live worker: all {len(members)} heartbeats expired"}
    return {"ok": True, "live": live}


async def readiness(ctx: ApiContext) -> dict[str, Any]:
    database = await asyncio.to_thread(_db_ok, ctx)
    unreachable = {"ok": False, "detail": "Redis not reachable"}
    try:
        redis_ok = bool(await ctx.resources.redis.ping())
        controller = await _controller(ctx) if redis_ok else unreachable
        workers = await _workers(ctx) if redis_ok else unreachable
    except (RedisError, OSError):
        redis_ok, controller, workers = False, unreachable, unreachable
    ready = database and redis_ok and controller["ok"] and workers["ok"]
    return {"status": "ready" if ready else "not ready", "database": database, "redis": redis_ok,
            "controller": controller, "workers": workers}
