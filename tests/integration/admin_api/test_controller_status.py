"""``GET /api/v1/controller`` against a real supervisor and leader lease in Redis: the same leader, loop
health, restarts and last errors that ``integramon controller --status`` reads."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from controller.lease import LeaderLease
from controller.loop_state import read_loop_states
from controller.supervisor import LoopSpec, Supervisor
from core.queues.keys import CONTROLLER_LOOPS


async def test_no_controller_is_reported_unhealthy(client: AsyncTestClient[Any], viewer: dict[str, str],
                                                   redis: Redis) -> None:
    body = (await client.get("/api/v1/controller", headers=viewer)).json()
    assert body["leader"] is None
    assert body["lease_ttl_s"] is None
    assert body["healthy"] is False
    assert body["loops"] == []


async def test_leader_and_loops_match_what_the_controller_reads(
        client: AsyncTestClient[Any], viewer: dict[str, str], redis: Redis) -> None:
    calls = {"crash": 0}

    async def ok() -> None:
        return None

    async def crash() -> None:
        calls["crash"] += 1
        if calls["crash"] <= 2:
            raise RuntimeError(f"boom {calls['crash']}")

    async def stall() -> None:
        await asyncio.sleep(3600)

    lease = LeaderLease(redis, "ctl-api-test", lease_seconds=30)
    assert await lease.try_acquire()
    supervisor = Supervisor(redis, "ctl-api-test", [LoopSpec("ok", 0.1, ok), LoopSpec("crash", 0.1, crash),
                                                    LoopSpec("stall", 0.1, stall)],
                            backoff_base_s=0.05, backoff_max_s=0.2)
    task = asyncio.create_task(supervisor.run())
    try:
        await asyncio.sleep(1.5)
        response = await client.get("/api/v1/controller", headers=viewer)
        expected = {s.name: s for s in await read_loop_states(redis)}
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await lease.release()

    assert response.status_code == 200
    body = response.json()
    assert body["leader"] == "ctl-api-test"
    assert 0 < body["lease_ttl_s"] <= 30
    loops = {loop["name"]: loop for loop in body["loops"]}
    assert sorted(loops) == ["crash", "ok", "stall"]
    for name, state in expected.items():  # the controller's own reader and the API agree
        assert loops[name]["healthy"] == state.healthy, name
        assert loops[name]["restarts"] == state.restarts, name
        assert loops[name]["last_error"] == state.last_error, name
        assert loops[name]["from_leader"] is True
    assert loops["ok"]["healthy"]
    assert loops["ok"]["last_error"] is None
    assert loops["crash"]["restarts"] == 2
    assert "boom 2" in loops["crash"]["last_error"]
    assert loops["stall"]["healthy"] is False
    assert body["healthy"] is False  # one stalled loop is enough
    last_run = datetime.fromisoformat(loops["ok"]["last_run_at"])
    assert (datetime.now(UTC) - last_run).total_seconds() < 5


async def test_a_dead_controllers_loops_turn_unhealthy_and_bad_records_show(
        client: AsyncTestClient[Any], viewer: dict[str, str], redis: Redis) -> None:
    """Records written long ago are judged against the clock, as ``--status`` does; garbage is shown, not hidden."""
    old = datetime.now(UTC).timestamp() - 600
    await redis.hset(CONTROLLER_LOOPS, mapping={
        "dispatch": json.dumps({"name": "dispatch", "interval_s": 5, "controller_id": "gone", "started_at": old,
                                "last_run_at": old, "last_ok_at": old, "restarts": 0, "healthy": True}),
        "broken": "not json",
    })
    body = (await client.get("/api/v1/controller", headers=viewer)).json()
    loops = {loop["name"]: loop for loop in body["loops"]}
    assert loops["dispatch"]["healthy"] is False
    assert loops["dispatch"]["stalled"] is True
    assert loops["dispatch"]["from_leader"] is False
    assert loops["broken"]["healthy"] is False
    assert "unreadable record" in loops["broken"]["last_error"]
    schema = (await client.get("/schema/openapi.json", headers=viewer)).json()
    assert "/api/v1/controller" in schema["paths"]
