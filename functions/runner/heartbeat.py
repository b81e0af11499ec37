"""The worker's heartbeat record in Redis (read by the controller's health watch and the admin API)."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field

from redis.asyncio import Redis

from core.queues.keys import WORKERS_INDEX, worker_key
from core.records.heartbeat import Heartbeat as HeartbeatRecord
from core.records.heartbeat import encode_heartbeat
from core.version import VERSION

__all__ = ["VERSION", "Heartbeat", "new_worker_id"]


def new_worker_id(name: str) -> str:
    """Unique per process: group or queue, host, pid and a random suffix (pids repeat in containers)."""
    return f"{name}@{socket.gethostname()}:{os.getpid()}:{os.urandom(2).hex()}"


@dataclass(slots=True)
class Heartbeat:
    worker_id: str
    group: str
    queues: list[str]
    ttl_s: float
    started_at: float = field(default_factory=time.time)

    async def beat(self, redis: Redis, concurrency: int, running: list[str], state: str = "ok") -> None:
        """Publish liveness; ``state`` is "ok" or "degraded: <dependency> unavailable" (jobs wait)."""
        record = HeartbeatRecord(
            worker_id=self.worker_id, group=self.group, queues=self.queues, concurrency=concurrency,
            running=running, host=socket.gethostname(), pid=os.getpid(), version=VERSION,
            started_at=self.started_at, last_seen=time.time(), state=state)
        async with redis.pipeline(transaction=False) as pipe:
            pipe.set(worker_key(self.worker_id), encode_heartbeat(record), px=int(self.ttl_s * 1000))
            pipe.sadd(WORKERS_INDEX, self.worker_id)
            await pipe.execute()

    async def remove(self, redis: Redis) -> None:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.delete(worker_key(self.worker_id))
            pipe.srem(WORKERS_INDEX, self.worker_id)
            await pipe.execute()
