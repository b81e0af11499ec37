"""The late-arrival fault: some messages become visible only ``late_delay_s`` after their LogEnd.

Only messages whose LogEnd lies within the last ``late_delay_s`` can still be hidden, so the check is
confined to the tail of the index range (LogEnd never decreases with the index); everything before
that tail is visible as usual.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.faults import FaultSettings
from simulator.messages import MessageSeries, mix64
from simulator.mpl_query import Selection

__all__ = ["hidden_predicate", "is_late", "without_late"]


def is_late(settings: FaultSettings, index: int) -> bool:
    """Whether message ``index`` is one of the late ones (stable for a given ``late_every``)."""
    return bool(settings.late_every) and mix64(index ^ 0x5A5A) % settings.late_every == 0


def hidden_predicate(series: MessageSeries, settings: FaultSettings, count: int,
                     now_ms: int) -> tuple[int, Callable[[int], bool]] | None:
    """(first index that may be hidden, index -> hidden now) or None when the fault is off."""
    if not settings.late_every or not settings.late_delay_s:
        return None
    delay_ms = settings.late_delay_s * 1000
    tail = series.first_index_after(now_ms - delay_ms, count)

    def hidden(index: int) -> bool:
        return index >= tail and is_late(settings, index) and series.log_end_ms(index) + delay_ms > now_ms

    return tail, hidden


def without_late(selection: Selection, settings: FaultSettings, now_ms: int) -> Selection:
    """``selection`` minus the messages that are still hidden at ``now_ms``."""
    found = hidden_predicate(selection.series, settings, selection.hi, now_ms)
    if found is None:
        return selection
    tail, hidden = found
    earlier = selection.predicate
    if earlier is None:
        selection.predicate = lambda i: i < tail or not hidden(i)
    else:
        selection.predicate = lambda i: earlier(i) and (i < tail or not hidden(i))
    return selection
