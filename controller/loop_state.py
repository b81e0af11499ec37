"""Per-loop health records in the Redis hash CONTROLLER_LOOPS (written by the supervisor, read by
``integramon controller --status``). The record and the rule judging it live in
:mod:`core.records.loop_state`, shared with the admin API's readiness."""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis

from core.queues.keys import CONTROLLER_LOOPS
from core.records.loop_state import STALL_INTERVALS, LoopState, is_stalled, loop_healthy

__all__ = ["STALL_INTERVALS", "LoopState", "is_stalled", "read_loop_states", "write_loop_states"]


async def write_loop_states(redis: Redis, states: list[LoopState]) -> None:
    if states:
        await redis.hset(CONTROLLER_LOOPS, mapping={s.name: s.to_json() for s in states})


async def read_loop_states(redis: Redis) -> list[LoopState]:
    """Every loop record, sorted by name, with ``healthy`` re-judged against the clock."""
    raw: dict[Any, Any] = await redis.hgetall(CONTROLLER_LOOPS)
    states = [LoopState.from_json(value) for value in raw.values()]
    now = time.time()
    for state in states:
        state.healthy = loop_healthy(state, now)
    return sorted(states, key=lambda s: s.name)
