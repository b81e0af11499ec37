"""Response records of ``GET /api/v1/bottlenecks``."""

from __future__ import annotations

from datetime import datetime

import msgspec

from core.pressure.database import DatabasePressure
from core.pressure.redis_info import RedisDurability, RedisPressure

__all__ = ["BottlenecksOut", "CpiTenantOut", "GroupOut"]


class CpiTenantOut(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: int
    tenant: str
    family: str
    requests: int
    requests_per_s: float
    throttled: int
    throttle_ratio: float
    server_errors: int
    timeouts: int
    retries: int
    retry_wait_ms: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


class GroupOut(msgspec.Struct, frozen=True, kw_only=True):
    group: str
    ready: int
    oldest_ready_age_s: float | None
    running: int
    slots: int
    workers: int
    slot_use: float | None
    verdict: str
    verdict_text: str
    desired_workers: int


class BottlenecksOut(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    cpi_window_s: float
    groups: list[GroupOut]
    cpi: list[CpiTenantOut]
    database: DatabasePressure | None
    redis: RedisPressure | None
    redis_durability: RedisDurability
