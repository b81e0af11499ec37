"""Pure stats aggregation: percentiles and roll-up cells."""

from __future__ import annotations

from functions.stats.aggregate import ALL, MessageRow, aggregate, percentile


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([10.0, 0.0], 1.0) == 10.0


def test_every_row_feeds_six_cells() -> None:
    rows = [MessageRow("P", "F", "FAILED", 1000.0), MessageRow(None, "G", "COMPLETED", None)]
    cells = aggregate(rows)
    assert cells[(ALL, ALL, ALL)].count == 2
    assert cells[(ALL, ALL, ALL)].failed == 1
    assert cells[(ALL, ALL, ALL)].durations == [1000.0]  # no LogStart -> no duration
    assert cells[("", "G", ALL)].count == 1
    assert cells[("P", ALL, "FAILED")].failure_rate == 1.0
    assert len(cells) == 11  # 6 + 6 minus the shared (*, *, *) cell
