"""The controller leader lease: one Redis key whose value is the acting controller's id, with a TTL.

Acquire is ``SET NX PX``; renew and release compare the value first (``lua/leader_renew.lua``,
``lua/leader_release.lua``), so a controller that lost the key (paused too long, network split) can
never extend or delete a successor's lease.
"""

from __future__ import annotations

from redis.asyncio import Redis

from core.queues.keys import CONTROLLER_LEADER
from core.queues.scripts import Lua, script

__all__ = ["LeaderLease", "current_leader"]


class LeaderLease:
    """Acquire, renew and release the controller leader key."""

    def __init__(self, redis: Redis, controller_id: str, lease_seconds: float) -> None:
        self._redis = redis
        self.controller_id = controller_id
        self.lease_ms = max(int(lease_seconds * 1000), 100)
        self._renew = script(redis, Lua.LEADER_RENEW)
        self._release = script(redis, Lua.LEADER_RELEASE)

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it, or keep it if we already do."""
        if await self._redis.set(CONTROLLER_LEADER, self.controller_id, nx=True, px=self.lease_ms):
            return True
        return await self.renew()

    async def renew(self) -> bool:
        """Extend our lease; False means we are no longer the leader."""
        return bool(await self._renew(keys=[CONTROLLER_LEADER], args=[self.controller_id, self.lease_ms]))

    async def release(self) -> None:
        """Hand over at once on a clean shutdown instead of making standbys wait for the TTL."""
        await self._release(keys=[CONTROLLER_LEADER], args=[self.controller_id])

    async def wait_hint_s(self) -> float:
        """How long a standby should sleep before trying again: until the current lease can expire."""
        ttl_ms = await self._redis.pttl(CONTROLLER_LEADER)
        third = self.lease_ms / 3000
        if ttl_ms is None or ttl_ms < 0:
            return 0.05
        return float(max(0.02, min(third, ttl_ms / 1000 + 0.01)))


async def current_leader(redis: Redis) -> str | None:
    """The id of the acting controller, or None (used by ``--status`` and the admin API)."""
    value = await redis.get(CONTROLLER_LEADER)
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)
