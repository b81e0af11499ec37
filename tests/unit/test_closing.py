"""Shutdown steps are bounded: a close that never finishes is logged by name and left behind."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from core.closing import close_within, stop_task


async def _never_finishes(release: asyncio.Event) -> None:
    """Swallows its cancellation, as a buggy driver or helper could; ends only when released (so the
    test's event loop can close)."""
    while not release.is_set():
        try:
            await release.wait()
        except asyncio.CancelledError:
            continue


async def test_a_close_that_never_finishes_is_left_behind_and_named(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="core.closing")
    release = asyncio.Event()
    started = time.monotonic()
    await close_within("stuck pool", _never_finishes(release), wait_s=0.2)
    assert time.monotonic() - started < 2
    assert "stuck pool did not finish within 0.2 s" in caplog.text
    release.set()


async def test_a_close_error_is_not_hidden() -> None:
    async def fails() -> None:
        raise OSError("socket already gone")

    with pytest.raises(OSError, match="already gone"):
        await close_within("pool", fails())


async def test_stop_task_bounds_a_task_that_ignores_cancellation(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="core.closing")
    release = asyncio.Event()
    task = asyncio.create_task(_never_finishes(release))
    await asyncio.sleep(0)
    started = time.monotonic()
    await stop_task("flusher", task, wait_s=0.2)
    assert time.monotonic() - started < 2
    assert "flusher did not stop within 0.2 s" in caplog.text
    release.set()
    await task
    ok = asyncio.create_task(asyncio.sleep(10))
    await asyncio.sleep(0)
    await stop_task("sleeper", ok)  # an ordinary task: cancelled and awaited, no error, no warning
    assert ok.cancelled()
    assert "sleeper" not in caplog.text
