"""The platform metrics a ``metric_settings`` row may name, with their default cadence and meaning.

The controller's metric dispatcher and ``functions/platform/schedule.py`` act on these rows; the admin
API validates changes against this list, so a row for a metric nothing reads cannot be created.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["METRICS", "MetricDef"]


@dataclass(frozen=True, slots=True)
class MetricDef:
    name: str
    default_interval_s: int
    meaning: str


METRICS: MappingProxyType[str, MetricDef] = MappingProxyType({m.name: m for m in (
    MetricDef("host_metrics", 60, "CPU, memory, disk and load of each host."),
    MetricDef("api_metrics", 60, "Admin API request counts and latency per route."),
    MetricDef("storage", 3600, "Quick (estimated) database and object store sizes."),
    MetricDef("storage_deep", 86_400, "Exact table and object store sizes (slow; daily by default)."),
)})
