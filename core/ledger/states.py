"""Job states of the run ledger and the transitions between them, and the states of one attempt.

Run: queued -> running -> succeeded | failed | retrying (-> running ...) | skipped | cancelled | dead
Attempt: running -> succeeded | failed | cancelled | interrupted (worker shutdown, re-queued) | lost
(its worker vanished while it ran). StrEnums, so the stored values are the plain strings.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ACTIVE", "ACTIVE_DEDUP_SQL", "ACTIVE_STATUSES_SQL", "NOT_TERMINAL_SQL", "TERMINAL", "AttemptStatus",
           "RunStatus", "can_move"]


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    DEAD = "dead"


class AttemptStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    LOST = "lost"


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

# The same set as a SQL predicate, kept literal (not built from the enum) because it is baked into a
# partial index and its migration; the recorder uses it to never overwrite a terminal row.
ACTIVE_STATUSES_SQL = "status IN ('queued', 'running', 'retrying')"
# The predicate of the active-dedup unique index (migration 1201): active runs that have a dedup key.
ACTIVE_DEDUP_SQL = f"dedup_key IS NOT NULL AND {ACTIVE_STATUSES_SQL}"
# The same rows, named by what they are not. The ledger recorder's batch UPDATEs use this form: a
# statement that spells ACTIVE_STATUSES_SQL matches the partial index built on it, and a planner whose
# statistics lag a burst of enqueues (a fresh or suddenly busy ledger) then scans that whole index
# (every queued job) for each batch instead of looking up its few jobs by arq_job_id. Every status
# is either active or terminal (tests/unit/test_ledger_states.py), so both predicates select the same rows.
NOT_TERMINAL_SQL = "status NOT IN (" + ", ".join(f"'{s.value}'" for s in sorted(TERMINAL)) + ")"
