"""Stats family: hourly and daily message aggregates (``stats_update_t`` on ``stats_cache``)."""

from __future__ import annotations

from functions.stats.jobs import JOBS

__all__ = ["JOBS"]
