"""The run states: every status is active or terminal, and the two SQL predicates select the same rows."""

from __future__ import annotations

import re

from core.ledger.states import ACTIVE, ACTIVE_STATUSES_SQL, NOT_TERMINAL_SQL, TERMINAL, RunStatus


def _named(predicate: str) -> set[str]:
    return set(re.findall(r"'(\w+)'", predicate))


def test_every_status_is_either_active_or_terminal() -> None:
    assert set(RunStatus) == ACTIVE | TERMINAL
    assert not ACTIVE & TERMINAL


def test_not_terminal_selects_exactly_the_active_statuses() -> None:
    assert ACTIVE_STATUSES_SQL.startswith("status IN (")
    assert NOT_TERMINAL_SQL.startswith("status NOT IN (")
    assert _named(ACTIVE_STATUSES_SQL) == {s.value for s in ACTIVE}
    assert _named(NOT_TERMINAL_SQL) == {s.value for s in TERMINAL}
    assert {s.value for s in RunStatus} - _named(NOT_TERMINAL_SQL) == _named(ACTIVE_STATUSES_SQL)
