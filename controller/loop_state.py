"""Per-loop health records in the Redis hash CONTROLLER_LOOPS (written by the supervisor, read by
``integramon controller --status`` and the admin API).

One JSON value per loop: name, interval_s, last_run_at, last_ok_at, last_error, restarts, healthy,
controller_id (times are Unix seconds). Readers re-judge health from the times, because a dead
controller cannot mark its own loops unhealthy.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from redis.asyncio import Redis

from core.queues.keys import CONTROLLER_LOOPS

__all__ = ["STALL_INTERVALS", "LoopState", "is_stalled", "read_loop_states", "write_loop_states"]

STALL_INTERVALS = 3  # a loop with no successful run for this many intervals is unhealthy


@dataclass(slots=True)
class LoopState:
    """The record of one loop."""

    name: str
    interval_s: float
    controller_id: str
    started_at: float
    last_run_at: float | None = None
    last_ok_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    restarts: int = 0
    healthy: bool = True

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> LoopState:
        data: dict[str, Any] = json.loads(raw)
        known = set(cls.__dataclass_fields__)
        data.setdefault("started_at", data.get("last_run_at") or 0.0)
        return cls(**{k: v for k, v in data.items() if k in known})


def is_stalled(state: LoopState, now: float | None = None) -> bool:
    """No successful run within STALL_INTERVALS intervals (counted from the loop's start if none yet)."""
    now = time.time() if now is None else now
    reference = state.last_ok_at if state.last_ok_at is not None else state.started_at
    return now - reference > STALL_INTERVALS * state.interval_s


async def write_loop_states(redis: Redis, states: list[LoopState]) -> None:
    if states:
        await redis.hset(CONTROLLER_LOOPS, mapping={s.name: s.to_json() for s in states})


async def read_loop_states(redis: Redis) -> list[LoopState]:
    """Every loop record, sorted by name, with ``healthy`` re-judged against the clock."""
    raw: dict[Any, Any] = await redis.hgetall(CONTROLLER_LOOPS)
    states = [LoopState.from_json(value) for value in raw.values()]
    now = time.time()
    for state in states:
        state.healthy = state.healthy and not is_stalled(state, now)
    return sorted(states, key=lambda s: s.name)
