"""Job states of the run ledger and the transitions between them.

queued -> running -> succeeded | failed | retrying (-> running ...) | skipped | cancelled | dead
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ACTIVE", "TERMINAL", "RunStatus", "can_move"]


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    DEAD = "dead"


TERMINAL: frozenset[RunStatus] = frozenset(
    {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED, RunStatus.CANCELLED, RunStatus.DEAD}
)
ACTIVE: frozenset[RunStatus] = frozenset({RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.RETRYING})

_MOVES: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.SKIPPED, RunStatus.CANCELLED}) | TERMINAL,
    RunStatus.RUNNING: TERMINAL | {RunStatus.RETRYING, RunStatus.RUNNING},
    RunStatus.RETRYING: TERMINAL | {RunStatus.RUNNING},
}


def can_move(old: RunStatus | str, new: RunStatus | str) -> bool:
    """Whether the ledger accepts ``old -> new``; terminal states never change."""
    return RunStatus(new) in _MOVES.get(RunStatus(old), frozenset())
