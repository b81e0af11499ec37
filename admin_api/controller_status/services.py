"""Read the controller's leader lease and loop records from Redis.

The records are written by the controller's supervisor (one JSON value per loop in
``CONTROLLER_LOOPS``) as :class:`core.records.LoopState`, and judged here by the same shared rule as
``--status`` and readiness (:func:`core.records.loop_healthy`): a loop with no successful run for
``STALL_INTERVALS`` intervals is unhealthy, whatever it last wrote, because a dead controller cannot
mark its own loops unhealthy. A record that cannot be decoded is reported as an unhealthy loop
rather than hidden.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from admin_api.controller_status.schemas import ControllerStatus, LoopStatus
from core.queues.keys import CONTROLLER_LEADER, CONTROLLER_LOOPS
from core.records import LoopState, is_stalled, loop_healthy

__all__ = ["controller_status"]


def _moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _loop(field: str, raw: Any, leader: str | None, now: float) -> LoopStatus:
    try:
        state = LoopState.from_json(raw)
    except ValueError as exc:  # msgspec's DecodeError and ValidationError are ValueErrors
        state = LoopState(name=field, interval_s=0.0, healthy=False, last_error=f"unreadable record: {exc}")
    return LoopStatus(
        name=state.name, healthy=loop_healthy(state, now), stalled=is_stalled(state, now),
        interval_s=state.interval_s, controller_id=state.controller_id or "",
        from_leader=leader is not None and state.controller_id == leader,
        started_at=_moment(state.started_at or None), last_run_at=_moment(state.last_run_at),
        last_ok_at=_moment(state.last_ok_at), last_error=state.last_error,
        last_error_at=_moment(state.last_error_at), restarts=state.restarts)


async def controller_status(redis: Redis) -> ControllerStatus:
    """The leader, its lease's remaining time and every loop, sorted by name."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(CONTROLLER_LEADER)
        pipe.pttl(CONTROLLER_LEADER)
        pipe.hgetall(CONTROLLER_LOOPS)
        leader_raw, ttl_ms, records = await pipe.execute()
    leader = _text(leader_raw) if leader_raw is not None else None
    now = time.time()
    loops = sorted((_loop(_text(k), v, leader, now) for k, v in records.items()), key=lambda loop: loop.name)
    return ControllerStatus(
        leader=leader, lease_ttl_s=ttl_ms / 1000 if leader is not None and ttl_ms and ttl_ms > 0 else None,
        healthy=leader is not None and bool(loops) and all(loop.healthy for loop in loops),
        checked_at=datetime.fromtimestamp(now, UTC), loops=loops)
