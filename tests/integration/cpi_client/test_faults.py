"""CpiClient under every fault the simulator injects: retried when it can help, typed errors when not."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from core.cpi import (
    CpiClient,
    CpiError,
    CpiMalformedResponse,
    CpiRateLimited,
    CpiServerError,
    CpiTimeout,
    RetryPolicy,
)
from simulator.server import SimulatorServer, TenantEndpoint
from tests.integration.cpi_client.sim_admin import set_faults, sim_stats

FAST = RetryPolicy(max_attempts=4, backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=1.0, max_retry_after_s=5.0)


def client_for(t: TenantEndpoint, policy: RetryPolicy = FAST) -> CpiClient:
    return CpiClient(t.api_url, t.token_url, t.client_id, t.client_secret, policy=policy)


async def all_guids(cpi: CpiClient, since: datetime, until: datetime) -> list[str]:
    return [log.message_guid async for page in cpi.iter_message_logs(since, until) for log in page]


@pytest.mark.parametrize("fault", ["429", "500", "503", "malformed", "timeout"])
async def test_each_fault_is_retried_and_the_call_succeeds(
    sim: SimulatorServer, t1: TenantEndpoint, fault: str
) -> None:
    async with client_for(t1) as cpi:
        expected = await cpi.count_message_logs(None, datetime(2090, 1, 1, tzinfo=UTC))
        await set_faults(sim, "tenant1", script=[fault, fault], hang_s=3)
        before = (await sim_stats(sim, "tenant1"))["api_requests"]
        assert await cpi.count_message_logs(None, datetime(2090, 1, 1, tzinfo=UTC)) >= expected
    assert (await sim_stats(sim, "tenant1"))["api_requests"] == before + 3


async def test_retry_after_is_honoured(sim: SimulatorServer, t1: TenantEndpoint) -> None:
    async with client_for(t1) as cpi:
        await cpi.count_message_logs()
        await set_faults(sim, "tenant1", script=["429"], retry_after_s=1)
        started = time.monotonic()
        await cpi.count_message_logs()
        assert time.monotonic() - started >= 1.0  # waited as told, not the 10 ms backoff


async def test_exhausted_retries_raise_typed_errors(sim: SimulatorServer, t1: TenantEndpoint) -> None:
    cases: list[tuple[dict[str, object], type[CpiError], str]] = [
        ({"status_429_every": 1}, CpiRateLimited, "429"),
        ({"status_5xx_every": 1, "status_5xx_code": 503}, CpiServerError, "503"),
        ({"malformed_every": 1}, CpiMalformedResponse, "unreadable"),
        ({"timeout_every": 1, "hang_s": 3}, CpiTimeout, "did not answer"),
    ]
    policy = RetryPolicy(max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.02, timeout_s=0.3)
    async with client_for(t1, policy) as cpi:
        for faults, error, word in cases:
            await set_faults(sim, "tenant1", **faults)
            with pytest.raises(error, match=word) as caught:
                await cpi.count_message_logs()
            assert caught.value.transient
            assert t1.client_secret not in str(caught.value)


async def test_long_retry_after_is_raised_at_once_for_the_job_to_defer(
    sim: SimulatorServer, t1: TenantEndpoint
) -> None:
    async with client_for(t1) as cpi:
        await cpi.count_message_logs()
        await set_faults(sim, "tenant1", status_429_every=1, retry_after_s=120)
        started = time.monotonic()
        with pytest.raises(CpiRateLimited) as caught:
            await cpi.count_message_logs()
    assert caught.value.retry_after_s == 120
    assert time.monotonic() - started < 5


async def test_fault_storm_during_paging_loses_and_duplicates_nothing(sim: SimulatorServer, t1: TenantEndpoint) -> None:
    """Every 3rd request 429, 5th 503, 7th malformed, 11th hangs: at most 6 failures in a row, so 7 attempts do."""
    until = datetime.now(UTC) - timedelta(seconds=2)
    since = until - timedelta(days=3)
    patient = RetryPolicy(max_attempts=7, backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=0.5)
    async with client_for(t1, patient) as cpi:
        clean = await all_guids(cpi, since, until)
        await set_faults(
            sim,
            "tenant1",
            status_429_every=3,
            retry_after_s=0,
            status_5xx_every=5,
            malformed_every=7,
            timeout_every=11,
            hang_s=2,
        )
        stormy = await all_guids(cpi, since, until)
    assert len(stormy) == len(set(stormy)) == len(clean) > 2000
    assert stormy == clean
    injected = (await sim_stats(sim, "tenant1"))["faults"]["injected"]
    assert set(injected) >= {"429", "503", "malformed"}


async def test_faults_on_the_token_endpoint_are_retried_too(sim: SimulatorServer, t1: TenantEndpoint) -> None:
    await set_faults(sim, "tenant1", include_token=True, script=["503", "malformed"])
    before = (await sim_stats(sim, "tenant1"))["token_requests"]
    async with client_for(t1) as cpi:
        assert await cpi.count_message_logs() > 0
    assert (await sim_stats(sim, "tenant1"))["token_requests"] == before + 2  # malformed one + the good one
