"""The one registry of the Redis kernel's Lua scripts.

Every script of the project is a ``.lua`` file in ``core/queues/lua/`` (shipped as package data),
read once from here and registered on a client with :func:`script`. Each file's header documents
its ``KEYS`` and ``ARGV``; every key a script touches comes from :mod:`core.queues.keys` through
``KEYS[]`` so Redis Cluster slot checks and ACL key patterns see them.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from importlib import resources

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

__all__ = ["RETRY_COUNTER_TTL_S", "Lua", "script", "source"]

# arq's lifetime of a job's try counter (``arq:retry:<id>``): one day plus 2,000 s, longer than
# arq's one-day job expiry so a counter never vanishes before its job.
RETRY_COUNTER_TTL_S = 88_400


class Lua(StrEnum):
    """The kernel's scripts; the value is the file name without ``.lua``."""

    CLAIM_RESERVE = "claim_reserve"
    CLAIM_LEASE = "claim_lease"
    CLAIM_NAMED = "claim_named"
    FINISH = "finish"
    RENEW = "renew"
    CANCEL = "cancel"
    JOB_STATE = "job_state"
    ENQUEUE = "enqueue"
    LEADER_RENEW = "leader_renew"
    LEADER_RELEASE = "leader_release"


@functools.cache
def source(name: Lua) -> str:
    """The text of one script, read from the package's ``lua`` folder."""
    return resources.files("core.queues").joinpath("lua", f"{name.value}.lua").read_text(encoding="utf-8")


def script(redis: Redis, name: Lua) -> AsyncScript:
    """``name`` registered on ``redis``: called with ``keys=`` and ``args=``, sent by SHA (EVALSHA)
    and loaded on the first NOSCRIPT (a restarted or flushed Redis)."""
    return redis.register_script(source(name))
