"""Pure aggregation of message rows into stats cells (counts, failure rate, p50 / p95 duration).

Every row feeds six cells: (package, iflow, status) and its roll-ups with ``*`` for iflow, package
and status, so a tenant, package or iflow total is one stored row the console can read directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["ALL", "FAILURE_STATUSES", "Cell", "CellKey", "MessageRow", "aggregate", "percentile"]

ALL = "*"
FAILURE_STATUSES = frozenset({"FAILED", "ESCALATED"})

CellKey = tuple[str, str, str]  # package_id, iflow_id, status


@dataclass(frozen=True, slots=True)
class MessageRow:
    """What aggregation needs of a message log; ``duration_ms`` is LogEnd - LogStart (None if either is missing)."""

    package_id: str | None
    iflow_id: str | None
    status: str
    duration_ms: float | None


@dataclass(slots=True)
class Cell:
    """Running totals of one cell; durations are kept to compute exact percentiles."""

    count: int = 0
    failed: int = 0
    durations: list[float] = field(default_factory=list)

    @property
    def failure_rate(self) -> float:
        return self.failed / self.count if self.count else 0.0

    def p(self, q: float) -> float | None:
        return percentile(self.durations, q)


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (as PostgreSQL's percentile_cont), ``q`` in [0, 1]."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _keys(row: MessageRow) -> list[CellKey]:
    pkg, flow, status = row.package_id or "", row.iflow_id or "", row.status
    return [(pkg, flow, status), (pkg, flow, ALL), (pkg, ALL, status), (pkg, ALL, ALL),
            (ALL, ALL, status), (ALL, ALL, ALL)]


def aggregate(rows: Iterable[MessageRow]) -> dict[CellKey, Cell]:
    """All cells (with roll-ups) for the given rows of one bucket."""
    cells: dict[CellKey, Cell] = {}
    for row in rows:
        failed = row.status in FAILURE_STATUSES
        duration = None if row.duration_ms is None else max(float(row.duration_ms), 0.0)
        for key in _keys(row):
            cell = cells.get(key)
            if cell is None:
                cell = cells[key] = Cell()
            cell.count += 1
            cell.failed += failed
            if duration is not None:
                cell.durations.append(duration)
    return cells
