"""Stats responses: one row per tenant and bucket (the tenant-wide roll-up cells)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

__all__ = ["Granularity", "StatsList", "StatsRow"]

Granularity = Literal["hour", "day"]


class StatsRow(msgspec.Struct):
    tenant_id: int
    granularity: str
    bucket_start: datetime
    message_count: int
    failed_count: int
    failure_rate: float
    p50_ms: float | None
    p95_ms: float | None
    updated_at: datetime


class StatsList(msgspec.Struct):
    """Newest buckets first."""

    items: list[StatsRow]
