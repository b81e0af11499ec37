"""Garbage-collector settings for a long-lived serving process (called once, when start-up is done):
the admin API after its app is built, a worker before it starts claiming.

Measured with ``python -m bench.api`` (docs/api.md, performance): a full (generation 2) collection
in an API worker walks every object of the imported framework, ORM models and route table, 80-430 ms
of wall time on the shared 2-core machine, and any such collection while serving lands on every
request in flight. Freezing what start-up built moves those objects out of the collector's reach
(they live for the whole process anyway), so later collections only walk what requests allocate.
A larger generation-0 threshold makes the young collections rarer; each stays well under a
millisecond because request garbage is small and mostly freed by reference counting.

A worker allocates the same way per job (a task, its record, a few dicts): with 100 slots the default
threshold (700) ran a young collection every few jobs and a full one, over every imported module's
objects, every few seconds. It skips the start-up ``gc.collect()`` (tens of milliseconds before the
first job; start-up leaves little garbage) and freezes what is there.
"""

from __future__ import annotations

import gc

__all__ = ["GC_THRESHOLDS", "settle_heap"]

GC_THRESHOLDS = (10_000, 20, 20)


def settle_heap(*, collect: bool = True) -> None:
    """Collect start-up garbage once (unless ``collect`` is False), freeze the survivors, and make
    young collections rarer."""
    if collect:
        gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
