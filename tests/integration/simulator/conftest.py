"""A CPI simulator on a free loopback port for the simulator and client tests (faults reset after each test)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from simulator.config import SimulatorConfig
from simulator.server import SimulatorServer, TenantEndpoint

CONFIG = SimulatorConfig(
    tenants=2,
    seed=7,
    rate=50.0,
    failure_ratio=0.1,
    history_days=2,
    history_per_day=1000,
    start_ms=int(time.time() * 1000) - 60_000,
)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(CONFIG) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sim" in request.fixturenames:
        server: SimulatorServer = request.getfixturevalue("sim")
        for tenant in server.tenants():
            httpx.delete(f"{server.url}/_sim/tenants/{tenant.name}/faults")


@pytest.fixture
def t1(sim: SimulatorServer) -> TenantEndpoint:
    return sim.tenant("tenant1")


@pytest.fixture
def api(t1: TenantEndpoint) -> Iterator[httpx.Client]:
    """A sync HTTP client on tenant1's service root with HTTP Basic auth."""
    with httpx.Client(base_url=t1.api_url + "/", auth=(t1.client_id, t1.client_secret), timeout=10) as client:
        yield client
