"""Readiness: database and Redis answer, and a controller leader exists whose loops are healthy.

Loop health is re-judged from the recorded times by the shared rule (:func:`core.records.loop_healthy`),
because a dead controller cannot mark its own loops unhealthy.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from admin_api.context import ApiContext
from core.queues.keys import CONTROLLER_LEADER, CONTROLLER_LOOPS
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


async def readiness(ctx: ApiContext) -> dict[str, Any]:
    database = await asyncio.to_thread(_db_ok, ctx)
    try:
        redis_ok = bool(await ctx.resources.redis.ping())
    except (RedisError, OSError):
        redis_ok = False
    controller = await _controller(ctx) if redis_ok else {"ok": False, "detail": "Redis not reachable"}
    ready = database and redis_ok and controller["ok"]
    return {"status": "ready" if ready else "not ready", "database": database, "redis": redis_ok,
            "controller": controller}
