"""Garbage-collector settings for a serving API process (called once, after the app is built).

Measured with ``python -m bench.api`` (docs/api.md, performance): a full (generation 2) collection
in an API worker walks every object of the imported framework, ORM models and route table, 80-430 ms
of wall time on the shared 2-core machine, and any such collection while serving lands on every
request in flight. Freezing what start-up built moves those objects out of the collector's reach
(they live for the whole process anyway), so later collections only walk what requests allocate.
A larger generation-0 threshold makes the young collections rarer; each stays well under a
millisecond because request garbage is small and mostly freed by reference counting.
"""

from __future__ import annotations

import gc

__all__ = ["GC_THRESHOLDS", "settle_heap"]

GC_THRESHOLDS = (10_000, 20, 20)


def settle_heap() -> None:
    """Collect start-up garbage once, freeze the survivors, and make young collections rarer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
