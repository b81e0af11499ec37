"""Redis commands packed by hiredis instead of redis-py's pure-Python packer.

redis-py's asyncio connection packs every command in Python, growing one bytes buffer argument by
argument; the worker's claim, lease and finish scripts carry several keys and arguments per job, so
at 100 slots that packing (and writing its many chunks) was a large share of the worker's CPU per
job. hiredis (a dependency already, for parsing replies) packs a command in one C call. The
synchronous client does the same when hiredis is installed; this gives the asyncio client the same.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.utils import HIREDIS_AVAILABLE

__all__ = ["pack_with_hiredis"]


def _hiredis_class(base: type[AbstractConnection]) -> type[AbstractConnection]:
    import hiredis

    def pack_command(self: AbstractConnection, *args: Any) -> list[bytes]:
        """Same contract as ``AbstractConnection.pack_command`` (a multi-word command name is split);
        arguments hiredis does not take (memoryview, bytearray, or a wrong type that redis-py reports
        as DataError) go through redis-py's own packer."""
        parts = args
        if isinstance(parts[0], str):
            parts = (*parts[0].encode().split(), *parts[1:])
        elif b" " in parts[0]:
            parts = (*parts[0].split(), *parts[1:])
        try:
            return [hiredis.pack_command(parts)]
        except TypeError:
            return base.pack_command(self, *args)

    return type(f"Hiredis{base.__name__}", (base,), {"pack_command": pack_command, "_packs_with_hiredis": True})


def pack_with_hiredis(redis: Redis) -> Redis:
    """Make every connection ``redis``'s pool opens from now on pack commands with hiredis (whatever
    its class: TCP, TLS or Unix socket); a no-op without hiredis. Returns ``redis``."""
    pool = redis.connection_pool
    base = pool.connection_class
    if HIREDIS_AVAILABLE and not getattr(base, "_packs_with_hiredis", False):
        pool.connection_class = _hiredis_class(base)
    return redis
