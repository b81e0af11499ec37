"""Read Redis INFO and SLOWLOG. Slowlog arguments are cut to the command and its first key, because
later arguments can be job payloads (and with them tenant data) that must not leak into the console."""

from __future__ import annotations

from typing import Any

import msgspec
from redis.asyncio import Redis

from admin_api.metrics.live_depth import queue_depths
from core.pressure.redis_info import redis_durability

__all__ = ["redis_overview"]

INFO_FIELDS = ("redis_version", "uptime_in_seconds", "used_memory", "used_memory_human", "used_memory_peak",
               "used_memory_peak_human", "maxmemory", "maxmemory_policy", "mem_fragmentation_ratio",
               "instantaneous_ops_per_sec", "total_commands_processed", "connected_clients", "blocked_clients",
               "keyspace_hits", "keyspace_misses", "evicted_keys", "expired_keys", "role")


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _slowlog_entry(entry: dict[str, Any]) -> dict[str, Any]:
    command = entry.get("command")
    words = _text(command).split() if command is not None else []
    return {"id": entry.get("id"), "start_time": entry.get("start_time"),
            "duration_us": entry.get("duration"), "command": " ".join(words[:2])[:200],
            "arguments": max(len(words) - 2, 0)}


async def redis_overview(redis: Redis, slowlog_count: int = 20) -> dict[str, Any]:
    info = await redis.info()
    keyspace = {k: v for k, v in info.items() if k.startswith("db") and isinstance(v, dict)}
    hits, misses = int(info.get("keyspace_hits", 0)), int(info.get("keyspace_misses", 0))
    slowlog = await redis.slowlog_get(slowlog_count)
    return {
        "server": {k: info.get(k) for k in INFO_FIELDS},
        "hit_rate": round(hits / (hits + misses), 4) if hits + misses else None,
        "keyspace": keyspace,
        "queues": await queue_depths(redis),
        "slowlog": [_slowlog_entry(e) for e in slowlog],
        "durability": msgspec.to_builtins(await redis_durability(redis)),
    }
