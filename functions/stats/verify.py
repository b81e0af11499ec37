"""Ground truth for stats: every cell recomputed from ``message_log`` in Python, compared with ``stats_bucket``.

Independent of the incremental path on purpose (one plain SELECT of the tenant's rows; hours, days and
durations computed here), so the property test and ``bench.stats_exact`` can count wrong cells.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models.messages import MessageLog
from core.db.models.stats import StatsBucket
from functions.stats.aggregate import MessageRow, aggregate

__all__ = ["CellValue", "compare", "expected_cells", "stored_cells"]

CellId = tuple[str, datetime, str, str, str]  # granularity, bucket start, package, iflow, status
# Stored durations are rounded to 0.1 ms and SQLite's julianday is about that precise.
DURATION_TOLERANCE_MS = 0.25


@dataclass(frozen=True, slots=True)
class CellValue:
    count: int
    failed: int
    p50: float | None
    p95: float | None

    def same_as(self, other: CellValue) -> bool:
        return (self.count, self.failed) == (other.count, other.failed) and _close(self.p50, other.p50) \
            and _close(self.p95, other.p95)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, abs_tol=DURATION_TOLERANCE_MS)


def expected_cells(session: Session, tenant_id: int) -> dict[CellId, CellValue]:
    """Every non-empty hour and day cell of the tenant, from the rows as they are now."""
    groups: dict[tuple[str, datetime], list[MessageRow]] = defaultdict(list)
    query = select(MessageLog.package_id, MessageLog.iflow_id, MessageLog.status, MessageLog.log_start,
                   MessageLog.log_end).where(MessageLog.tenant_id == tenant_id)
    for pkg, flow, status, start, end in session.execute(query):
        moment = end or start
        if moment is None:
            continue
        ms = None if start is None or end is None else (end - start).total_seconds() * 1000.0
        row = MessageRow(pkg, flow, status, ms)
        hour = datetime.fromtimestamp(math.floor(moment.timestamp() / 3600) * 3600, UTC)
        groups[("hour", hour)].append(row)
        groups[("day", hour.replace(hour=0))].append(row)
    cells: dict[CellId, CellValue] = {}
    for (granularity, start_at), rows in groups.items():
        for (pkg, flow, status), cell in aggregate(rows).items():
            cells[(granularity, start_at, pkg, flow, status)] = CellValue(
                cell.count, cell.failed, cell.p(0.5), cell.p(0.95))
    return cells


def stored_cells(session: Session, tenant_id: int) -> dict[CellId, CellValue]:
    query = select(StatsBucket).where(StatsBucket.tenant_id == tenant_id)
    return {(b.granularity, b.bucket_start, b.package_id, b.iflow_id, b.status):
            CellValue(b.message_count, b.failed_count, b.p50_ms, b.p95_ms) for b in session.scalars(query)}


def compare(session: Session, tenant_id: int) -> list[CellId]:
    """Cells that differ (missing, extra or with other values), sorted; empty when stats are exact."""
    expected, stored = expected_cells(session, tenant_id), stored_cells(session, tenant_id)
    wrong = [cid for cid in expected.keys() | stored.keys()
             if cid not in expected or cid not in stored or not expected[cid].same_as(stored[cid])]
    return sorted(wrong)
