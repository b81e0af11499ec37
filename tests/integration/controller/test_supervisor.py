"""Supervised loops with real Redis: a crashing loop is restarted with backoff, a stalled one is
reported unhealthy, and the records land in the CONTROLLER_LOOPS hash."""

from __future__ import annotations

import asyncio
import contextlib

from redis.asyncio import Redis

from controller.loop_state import read_loop_states
from controller.supervisor import LoopSpec, Supervisor


async def test_crashing_loop_is_restarted_and_stalled_loop_turns_unhealthy(redis: Redis) -> None:
    calls = {"ok": 0, "crash": 0, "stall": 0}

    async def ok() -> None:
        calls["ok"] += 1

    async def crash() -> None:
        calls["crash"] += 1
        if calls["crash"] <= 3:
            raise RuntimeError(f"boom {calls['crash']}")

    async def stall() -> None:
        calls["stall"] += 1
        await asyncio.sleep(3600)

    supervisor = Supervisor(
        redis,
        "ctl-test",
        [LoopSpec("ok", 0.1, ok), LoopSpec("crash", 0.1, crash), LoopSpec("stall", 0.1, stall)],
        backoff_base_s=0.05,
        backoff_max_s=0.2,
    )
    task = asyncio.create_task(supervisor.run())
    try:
        await asyncio.sleep(1.5)
        states = {s.name: s for s in await read_loop_states(redis)}
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    assert calls["ok"] >= 5
    assert states["ok"].healthy
    assert states["ok"].last_error is None
    crashed = states["crash"]
    assert crashed.restarts == 3
    assert crashed.last_error == "RuntimeError: boom 3"
    assert calls["crash"] > 4  # running again after the failures
    assert crashed.healthy
    assert calls["stall"] == 1
    assert not states["stall"].healthy
    assert states["stall"].last_ok_at is None
    assert {s.controller_id for s in states.values()} == {"ctl-test"}


async def test_run_once_reports_failure_of_any_loop(redis: Redis) -> None:
    async def fine() -> None:
        return None

    async def broken() -> None:
        raise ValueError("bad config")

    supervisor = Supervisor(redis, "ctl-once", [LoopSpec("fine", 5, fine), LoopSpec("broken", 5, broken)])
    assert await supervisor.run_once() is False
    states = {s.name: s for s in await read_loop_states(redis)}
    assert states["fine"].last_ok_at is not None
    assert states["broken"].last_error == "ValueError: bad config"
