"""Redis overview response: server INFO fields, hit rate, keyspace, per-queue depth, slowlog, durability."""

from __future__ import annotations

import msgspec

from admin_api.metrics.schemas import LiveQueue
from core.pressure.redis_info import RedisDurability

__all__ = ["RedisOverview", "RedisServer", "SlowlogEntry"]


class RedisServer(msgspec.Struct):
    """Selected INFO fields (null when the server does not report one)."""

    redis_version: str | None = None
    uptime_in_seconds: int | None = None
    used_memory: int | None = None
    used_memory_human: str | None = None
    used_memory_peak: int | None = None
    used_memory_peak_human: str | None = None
    maxmemory: int | None = None
    maxmemory_policy: str | None = None
    mem_fragmentation_ratio: float | None = None
    instantaneous_ops_per_sec: int | None = None
    total_commands_processed: int | None = None
    connected_clients: int | None = None
    blocked_clients: int | None = None
    keyspace_hits: int | None = None
    keyspace_misses: int | None = None
    evicted_keys: int | None = None
    expired_keys: int | None = None
    role: str | None = None


class SlowlogEntry(msgspec.Struct):
    """A slow command: the command and its first key only (later arguments may be job payloads)."""

    id: int | None
    start_time: int | None
    duration_us: int | None
    command: str
    arguments: int


class RedisOverview(msgspec.Struct):
    server: RedisServer
    hit_rate: float | None
    keyspace: dict[str, dict[str, int]]
    queues: list[LiveQueue]
    slowlog: list[SlowlogEntry]
    durability: RedisDurability
