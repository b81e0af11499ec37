"""Failed authentication: logged (address and path, never the presented token) and limited per
client address, across API processes (the count lives in Redis, one key per address and minute).

After ``limit`` failures in a minute the address gets 429 with ``Retry-After`` until the minute is
over, for every request (a valid token does not lift it: a guesser must not learn which one worked).
The block is remembered in-process too, so a blocked address costs no Redis round trip.
"""

from __future__ import annotations

import logging
import time

from litestar.exceptions import HTTPException
from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["FailureLimiter", "TooManyFailures"]

log = logging.getLogger("admin_api.auth")
WINDOW_S = 60
_KEY = "integramon:auth-failures:{address}:{window}"


class TooManyFailures(HTTPException):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(detail=f"too many failed sign-ins from this address; retry in {retry_after} s",
                         headers={"Retry-After": str(retry_after)})


class FailureLimiter:
    """Counts failures per client address and minute; ``check`` raises TooManyFailures when blocked."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._blocked: dict[str, float] = {}  # address -> monotonic-free wall time the block ends
        self._local: dict[tuple[str, int], int] = {}  # used only while Redis is unreachable

    def check(self, address: str) -> None:
        until = self._blocked.get(address)
        if until is None:
            return
        left = until - time.time()
        if left <= 0:
            self._blocked.pop(address, None)
            return
        raise TooManyFailures(max(1, int(left + 0.999)))

    async def failed(self, redis: Redis, address: str, path: str, reason: str) -> None:
        """Record one failure (and log it); raises TooManyFailures once the address is over the limit."""
        now = time.time()
        window = int(now // WINDOW_S)
        try:
            key = _KEY.format(address=address, window=window)
            async with redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, WINDOW_S * 2)
                count = int((await pipe.execute())[0])
        except (RedisError, OSError):
            self._local = {k: v for k, v in self._local.items() if k[1] == window}
            count = self._local[(address, window)] = self._local.get((address, window), 0) + 1
        log.warning("authentication failed from %s on %s: %s (%d in this minute)", address, path, reason, count)
        if count > self.limit:
            self._blocked[address] = (window + 1) * WINDOW_S
            if len(self._blocked) > 10_000:  # bounded: drop finished blocks
                self._blocked = {a: t for a, t in self._blocked.items() if t > now}
            self.check(address)
