"""Shutdown steps that cannot hang a process: each close is awaited for a bounded time.

A server's shutdown closes several things in turn (helper tasks, connection pools, the Redis client).
If one of them never finishes (a socket whose close is never acknowledged, a task that swallows its
cancellation, a driver waiting on a dead peer), everything after it is skipped and the process
never exits: a container that must then be killed, or a test run stuck at teardown. Each step here
gets at most ``CLOSE_WAIT_S``; one that takes longer is logged once, by name, and left behind so the
remaining steps still run. Errors raised by a step are not hidden.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["CLOSE_WAIT_S", "close_within", "stop_task"]

log = logging.getLogger(__name__)

CLOSE_WAIT_S = 5.0


async def close_within(what: str, closing: Coroutine[Any, Any, Any], wait_s: float = CLOSE_WAIT_S) -> None:
    """Run one close step for at most ``wait_s``; past that, log it and move on (it is cancelled, but
    not waited for: a step that ignores cancellation must not hang the caller either)."""
    task = asyncio.ensure_future(closing)
    done, _ = await asyncio.wait({task}, timeout=wait_s)
    if not done:
        task.cancel()
        log.warning("shutdown: %s did not finish within %g s; left behind", what, wait_s)
        return
    task.result()  # its own error, if any


async def stop_task(what: str, task: asyncio.Task[Any], wait_s: float = CLOSE_WAIT_S) -> None:
    """Cancel a helper task and wait (bounded) for it to end; its cancellation is not an error."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=wait_s)
    if not done:
        log.warning("shutdown: %s did not stop within %g s of being cancelled; left behind", what, wait_s)
    elif not task.cancelled() and (error := task.exception()) is not None:
        raise error
