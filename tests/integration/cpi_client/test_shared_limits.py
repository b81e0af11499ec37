"""Per-tenant rate limits shared through real Redis: several "processes" together stay under the limit."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from redis.asyncio import Redis

from core.cpi import CpiClient, RetryPolicy
from core.cpi.ratelimit import EndpointFamily
from core.cpi.shared_limits import SharedRateLimits
from core.queues.keys import cpi_pause_key
from simulator.server import SimulatorServer, TenantEndpoint
from tests.integration.cpi_client.sim_admin import set_faults


async def test_two_processes_share_one_budget_per_second(redis_url: str) -> None:
    connections = [Redis.from_url(redis_url) for _ in range(2)]  # one connection per "process"
    try:
        gates = [SharedRateLimits(r, "tenant-a", cap_per_s=15).bucket(EndpointFamily.MONITORING) for r in connections]
        stamps: list[int] = []  # the window each request was counted in (the clock the limit is kept by:
        # a wall-clock stamp taken after the round trip moves a grant from a window's very end into the next)

        async def worker(gate_index: int) -> None:
            for _ in range(20):
                stamps.append(await gates[gate_index].take())

        await asyncio.gather(worker(0), worker(1))
    finally:
        for connection in connections:
            await connection.aclose()
    per_second = Counter(stamps)
    assert sum(per_second.values()) == 40
    assert max(per_second.values()) <= 15
    assert len(per_second) >= 3  # 40 requests at 15/s need at least three one-second windows


async def test_a_pause_holds_every_process_back(redis_url: str) -> None:
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        gate_a = SharedRateLimits(first, 7).bucket(EndpointFamily.DESIGNTIME)
        gate_b = SharedRateLimits(second, 7).bucket(EndpointFamily.DESIGNTIME)
        await gate_a.pause(0.4)
        started = time.monotonic()
        await gate_b.acquire()
        assert time.monotonic() - started >= 0.35
        await gate_a.pause(0.01)  # a shorter pause never cuts a longer one short
    finally:
        await first.aclose()
        await second.aclose()


async def test_client_with_shared_limits_pauses_the_tenant_on_retry_after(
    sim: SimulatorServer, t1: TenantEndpoint, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    try:
        limits = SharedRateLimits(redis, "sim-tenant1", cap_per_s=200)
        policy = RetryPolicy(max_attempts=3, backoff_base_s=0.01, backoff_max_s=0.02, timeout_s=5)
        async with CpiClient(
            t1.api_url, t1.token_url, t1.client_id, t1.client_secret, limits=limits, policy=policy
        ) as cpi:
            assert await cpi.count_message_logs() > 0
            await set_faults(sim, "tenant1", script=["429"], retry_after_s=2)
            task = asyncio.create_task(cpi.count_message_logs())
            await asyncio.sleep(0.3)
            assert await redis.pttl(cpi_pause_key("sim-tenant1", "monitoring")) > 1000  # other processes see it
            assert await task > 0
    finally:
        await redis.aclose()
