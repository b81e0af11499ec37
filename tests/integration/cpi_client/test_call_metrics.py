"""CPI call metrics and the token allowance renewed by a wait, against the simulator."""

from __future__ import annotations

import asyncio

from core.cpi import CpiClient, RetryPolicy
from core.cpi.metrics import CpiCallMetrics, TenantCallObserver, job_tally
from simulator.server import SimulatorServer, TenantEndpoint
from tests.integration.cpi_client.sim_admin import expire_tokens, set_faults, sim_stats


def observed_client(t: TenantEndpoint, metrics: CpiCallMetrics, timeout_s: float = 30.0) -> CpiClient:
    return CpiClient(t.api_url, t.token_url, t.client_id, t.client_secret,
                     policy=RetryPolicy(backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=timeout_s),
                     observer=TenantCallObserver(metrics, 1))


async def test_a_401_after_a_throttled_wait_gets_a_new_token_again(sim: SimulatorServer, t1: TenantEndpoint) -> None:
    """Token expired, refreshed, then 429 + Retry-After; the token expires during the wait: still succeeds."""
    metrics = CpiCallMetrics()
    async with observed_client(t1, metrics) as cpi:
        await cpi.count_message_logs()
        await expire_tokens(sim, "tenant1")
        await set_faults(sim, "tenant1", script=["429"], retry_after_s=0.6)
        served = (await sim_stats(sim, "tenant1"))["api_requests"]
        with job_tally() as tally:
            call = asyncio.create_task(cpi.count_message_logs())
            for _ in range(200):  # wait until the 429 was served, then expire the token during the pause
                if (await sim_stats(sim, "tenant1"))["api_requests"] > served:
                    break
                await asyncio.sleep(0.01)
            await expire_tokens(sim, "tenant1")
            assert await call > 0
    stats = metrics.drain()[(1, "monitoring")]
    # warm-up 200, then 401 -> token -> 429 -> wait -> 401 -> token -> 200
    assert stats.requests == 5
    assert stats.throttled == 1
    assert stats.retries == 1
    assert stats.retry_wait_ms >= 600
    assert tally.requests == 4
    assert tally.retries == 1
    assert tally.throttled_ms >= 600


async def test_server_errors_and_timeouts_are_counted(sim: SimulatorServer, t1: TenantEndpoint) -> None:
    metrics = CpiCallMetrics()
    async with observed_client(t1, metrics, timeout_s=0.3) as cpi:
        await set_faults(sim, "tenant1", script=["503", "timeout", "ok"])
        assert await cpi.count_message_logs() > 0
    stats = metrics.drain()[(1, "monitoring")]
    assert (stats.requests, stats.server_errors, stats.timeouts, stats.throttled, stats.retries) == (3, 1, 1, 0, 2)
    assert stats.retry_wait_ms == 0  # backoff after 5xx / timeout is not time throttled
    assert sum(stats.histogram) == 3
