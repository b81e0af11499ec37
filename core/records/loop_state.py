"""The controller's per-loop health record and the one rule that judges it.

Written by the controller's supervisor into the Redis hash ``integramon:controller:loops`` (one
JSON value per loop), read by ``integramon controller --status`` and the admin API's readiness.
Readers re-judge health from the recorded times, because a dead controller cannot mark its own
loops unhealthy.
"""

from __future__ import annotations

import time

import msgspec

__all__ = ["STALL_INTERVALS", "LoopState", "is_stalled", "loop_healthy"]

STALL_INTERVALS = 3  # a loop with no successful run for this many intervals is unhealthy


class LoopState(msgspec.Struct):
    """The record of one loop; times are Unix seconds (shared across processes and hosts)."""

    name: str
    interval_s: float
    controller_id: str | None = None
    started_at: float = 0.0
    last_run_at: float | None = None
    last_ok_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    restarts: int = 0
    healthy: bool = True

    def to_json(self) -> str:
        return msgspec.json.encode(self).decode()

    @classmethod
    def from_json(cls, raw: str | bytes) -> LoopState:
        """Parse one record; an older record without ``started_at`` counts from its last run."""
        data = msgspec.json.decode(raw)
        if not isinstance(data, dict):
            raise ValueError("a loop state is a JSON object")
        if data.get("started_at") is None:
            data["started_at"] = data.get("last_run_at") or 0.0
        return msgspec.convert(data, cls)


def is_stalled(state: LoopState, now: float | None = None) -> bool:
    """No successful run within STALL_INTERVALS intervals (counted from the loop's start if none yet)."""
    now = time.time() if now is None else now
    reference = state.last_ok_at if state.last_ok_at is not None else state.started_at
    return state.interval_s > 0 and now - reference > STALL_INTERVALS * state.interval_s


def loop_healthy(state: LoopState, now: float | None = None) -> bool:
    """The loop says it is healthy and it is not stalled."""
    return state.healthy and not is_stalled(state, now)
