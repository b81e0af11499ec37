"""Redis pressure and durability, from ``INFO`` (and ``CONFIG GET`` where the server allows it).

Redis runs commands on one thread: its CPU share is the ceiling for every worker's claims and every
enqueue. Its durability matters as much: the seed warns against keeping important queues on a Redis
that loses everything on restart, or one that evicts keys under memory pressure (an evicted job is a
lost job). Managed services (ElastiCache) refuse ``CONFIG``; the snapshot setting is then unknown.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import ResponseError

__all__ = ["RedisDurability", "RedisPressure", "RedisSampler", "redis_durability"]


class RedisPressure(msgspec.Struct, frozen=True, kw_only=True):
    """One sample; ``cpu_percent`` and ``evictions_per_s`` are None on the first sample."""

    ops_per_s: int
    used_memory: int
    maxmemory: int  # 0 = no limit
    connected_clients: int
    cpu_percent: float | None = None  # of one core: Redis's command thread
    evictions_per_s: float | None = None
    evicted_keys: int = 0

    @property
    def memory_use(self) -> float | None:
        return self.used_memory / self.maxmemory if self.maxmemory else None


class RedisDurability(msgspec.Struct, frozen=True, kw_only=True):
    """Whether queued jobs survive a Redis restart and memory pressure; ``warnings`` say what to fix."""

    aof_enabled: bool
    rdb_snapshots: bool | None  # None: CONFIG refused (managed Redis), unknown
    eviction_policy: str | None
    warnings: list[str]


class RedisSampler:
    """Samples one Redis; keep one instance to get rates."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._previous: tuple[float, float, int] | None = None

    async def sample(self) -> RedisPressure:
        info: dict[str, Any] = await self._redis.info()
        now = time.monotonic()
        cpu = float(info.get("used_cpu_sys", 0.0)) + float(info.get("used_cpu_user", 0.0))
        evicted = int(info.get("evicted_keys", 0))
        rates: dict[str, float] = {}
        if self._previous is not None:
            then, cpu0, evicted0 = self._previous
            seconds = max(now - then, 1e-3)
            rates = {"cpu_percent": max(0.0, cpu - cpu0) / seconds * 100,
                     "evictions_per_s": max(0, evicted - evicted0) / seconds}
        self._previous = (now, cpu, evicted)
        return RedisPressure(ops_per_s=int(info.get("instantaneous_ops_per_sec", 0)),
                             used_memory=int(info.get("used_memory", 0)), maxmemory=int(info.get("maxmemory", 0)),
                             connected_clients=int(info.get("connected_clients", 0)), evicted_keys=evicted, **rates)


async def redis_durability(redis: Redis) -> RedisDurability:
    info: dict[str, Any] = await redis.info("persistence")
    aof = bool(int(info.get("aof_enabled", 0)))
    snapshots: bool | None
    policy: str | None
    try:
        save = (await redis.config_get("save")).get("save", "")
        snapshots = bool(str(save).strip())
        policy = str((await redis.config_get("maxmemory-policy")).get("maxmemory-policy", "")) or None
    except ResponseError:
        snapshots = None
        memory: dict[str, Any] = await redis.info("memory")
        policy = str(memory.get("maxmemory_policy", "")) or None
    warnings = []
    if not aof and snapshots is False:
        warnings.append("Redis keeps nothing on disk (no AOF, no RDB snapshots): a restart loses every queued job")
    if policy is not None and policy != "noeviction":
        warnings.append(f"Redis eviction policy is {policy!r}: under memory pressure it deletes jobs; "
                        "use 'noeviction'")
    return RedisDurability(aof_enabled=aof, rdb_snapshots=snapshots, eviction_policy=policy, warnings=warnings)
