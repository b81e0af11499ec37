"""The leader lease of the controller. The lease itself lives in the Redis kernel
(:mod:`core.queues.leader`, with its Lua); this module adds how a controller names itself."""

from __future__ import annotations

import os
import socket

from core.queues.leader import LeaderLease, current_leader

__all__ = ["LeaderLease", "current_leader", "new_controller_id"]


def new_controller_id() -> str:
    """Unique per process (pids repeat across containers, so add host and a random suffix)."""
    return f"controller@{socket.gethostname()}:{os.getpid()}:{os.urandom(2).hex()}"
