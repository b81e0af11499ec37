"""Is a worker of a group alive on this host? (the container health check)."""

from __future__ import annotations

import socket

from redis.asyncio import Redis

from core.queues.keys import WORKERS_INDEX, worker_key
from core.records.heartbeat import decode_heartbeat
from core.settings import Settings

__all__ = ["local_worker_alive"]


async def local_worker_alive(settings: Settings, group: str) -> bool:
    """True when a heartbeat of ``group`` from this host is younger than the heartbeat TTL."""
    redis = Redis.from_url(settings.redis_url, socket_timeout=3)
    try:
        ids = await redis.smembers(WORKERS_INDEX)
        if not ids:
            return False
        host = socket.gethostname()
        for raw in await redis.mget([worker_key(i.decode()) for i in ids]):
            beat = decode_heartbeat(raw)
            if beat is not None and beat.group == group and beat.host == host \
                    and beat.is_fresh(settings.heartbeat_ttl_seconds):
                return True
        return False
    finally:
        await redis.aclose()
