"""``GET /api/v1/bottlenecks``: groups with verdicts, CPI pressure per tenant, store pressure, and the
Redis durability warning (the shared test Redis keeps nothing on disk)."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from controller.pressure import PressureSampler
from core.resources import open_resources
from core.settings import Settings
from tests.integration.controller.test_pressure_sampler import seed_backlog


async def test_bottlenecks_view(client: AsyncTestClient[Any], viewer: dict[str, str], settings: Settings) -> None:
    async with open_resources(settings) as resources:
        seed_backlog(resources, throttled=True)
        sampler = PressureSampler(settings, resources.engine, resources.sessions, resources.redis)
        await sampler.tick()
        await sampler.tick()
    reply = await client.get("/api/v1/bottlenecks", headers=viewer)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    groups = {g["group"]: g for g in body["groups"]}
    assert groups["light"]["verdict"] == "cpi-throttled"
    assert groups["light"]["verdict_text"].startswith("CPI throttling tenant tenant-")
    assert groups["light"]["slot_use"] == 1.0
    assert groups["messagelog-process-batch"]["verdict_text"] == "no live worker serves this group → start workers"
    (cpi,) = body["cpi"]
    assert (cpi["requests"], cpi["throttled"], cpi["throttle_ratio"]) == (100, 40, 0.4)
    assert cpi["latency_p50_ms"] == 100.0
    assert body["database"]["dialect"] == "postgresql"
    assert body["redis"]["connected_clients"] >= 1
    assert any("keeps nothing on disk" in w for w in body["redis_durability"]["warnings"])


async def test_bottlenecks_need_a_token(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/api/v1/bottlenecks")).status_code == 401
