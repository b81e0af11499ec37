"""Fixtures of the ingestion suite: the CPI simulator over real HTTP, tenants stored like the admin API
stores them, job contexts, a moto S3 endpoint and object stores of both kinds."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.messages import MessageLog
from core.db.models.tenants import Tenant
from core.queues.catalog import function
from core.resources import Resources, open_resources
from core.secrets import SecretBox
from core.settings import Settings
from core.storage import LocalObjectStore, ObjectStore, S3ObjectStore
from functions.runner.context import JobContext
from simulator.catalog import build_catalog
from simulator.config import SimulatorConfig
from simulator.messages import MessageSeries
from simulator.server import SimulatorServer, TenantEndpoint
from tests.moto_server import FAKE_AWS_ENV, moto_server


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3_bucket(s3_endpoint: str, aws_env: None) -> str:
    """A fresh, empty bucket on the moto server."""
    name = f"im-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """Each backend in turn, so one contract suite covers both."""
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    bucket = request.getfixturevalue("s3_bucket")
    return S3ObjectStore(bucket, endpoint_url=request.getfixturevalue("s3_endpoint"))


# -- simulator, tenants and job contexts ------------------------------------------------------

_job_ids = itertools.count(1)


@pytest.fixture
async def resources(settings: Settings) -> AsyncIterator[Resources]:
    async with open_resources(settings) as res:
        yield res


@pytest.fixture
def job_ctx(resources: Resources) -> Callable[[str], JobContext]:
    """The context a worker would pass to the catalogued function ``name``."""

    def make(name: str) -> JobContext:
        return JobContext(
            resources=resources, job_id=f"t-{name}-{next(_job_ids)}", spec=function(name), attempt=1, worker_id="test"
        )

    return make


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """Two days of history (3,000 a day) and 40 new messages a second; tests may override."""
    return SimulatorConfig(
        tenants=1, seed=11, rate=40.0, failure_ratio=0.05, history_days=2, history_per_day=3000, hang_s=3.0
    )


@pytest.fixture
def simulator(sim_config: SimulatorConfig) -> Iterator[SimulatorServer]:
    server = SimulatorServer(sim_config)
    with server:
        yield server


def register_tenant(sessions: sessionmaker[Session], settings: Settings, endpoint: TenantEndpoint, **extra: Any) -> int:
    """Store the simulated tenant the way the admin API does (secret encrypted at rest)."""
    with sessions.begin() as session:
        tenant = Tenant(
            name=endpoint.name,
            api_url=endpoint.api_url,
            token_url=endpoint.token_url,
            client_id=endpoint.client_id,
            client_secret_encrypted=SecretBox(settings).encrypt(endpoint.client_secret),
            **extra,
        )
        session.add(tenant)
        session.flush()
        return tenant.id


@pytest.fixture
def sim_tenant(simulator: SimulatorServer, db: sessionmaker[Session], settings: Settings) -> int:
    return register_tenant(db, settings, simulator.tenant("tenant1"))


def set_faults(simulator: SimulatorServer, body: dict[str, Any] | None, tenant: str = "tenant1") -> None:
    """Script faults through the simulator's own admin API (None clears them)."""
    url = f"{simulator.url}/_sim/tenants/{tenant}/faults"
    reply = httpx.delete(url) if body is None else httpx.post(url, json=body)
    reply.raise_for_status()


def expected_guids(config: SimulatorConfig, tenant: str, until_ms: int, since_ms: int | None = None) -> set[str]:
    """The simulator's own record: every message with since < LogEnd <= until."""
    series = simulator_series(config, tenant)
    count = series.visible_count(until_ms)
    return {
        series.guid(i)
        for i in range(count)
        if series.log_end_ms(i) <= until_ms and (since_ms is None or series.log_end_ms(i) > since_ms)
    }


def simulator_series(config: SimulatorConfig, tenant: str) -> MessageSeries:
    return MessageSeries(config, tenant, build_catalog(config.seed, tenant, config.start_ms))


def stored_guids(sessions: sessionmaker[Session], tenant_id: int) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(MessageLog.message_guid).where(MessageLog.tenant_id == tenant_id)))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings with a short CPI timeout, so a simulated hang is a quick timeout."""
    return replace(settings, cpi_timeout_seconds=1.0)


async def raw_pages(simulator: SimulatorServer, size: int = 2000) -> list[list[dict[str, object]]]:
    """Raw MessageProcessingLog entities, ``size`` per batch, as a producer would hand them over."""
    tenant = simulator.tenant("tenant1")
    entities: list[dict[str, object]] = []
    url: str | None = f"{tenant.api_url}/MessageProcessingLogs"
    params: dict[str, str] | None = {"$format": "json", "$orderby": "LogEnd"}
    async with httpx.AsyncClient(auth=(tenant.client_id, tenant.client_secret), timeout=30) as http:
        while url:
            reply = await http.get(url, params=params)
            reply.raise_for_status()
            data = reply.json()["d"]
            entities.extend(data["results"])
            url, params = data.get("__next"), None
            if url and not url.startswith("http"):
                url = f"{tenant.api_url}/{url.lstrip('/')}"
    return [entities[i : i + size] for i in range(0, len(entities), size)]
