"""Hot and cold message-log ingestion against the CPI simulator over HTTP and real PostgreSQL.

Every check compares the stored rows with the simulator's own record of which messages exist
(``expected_guids``), so a lost or a duplicated row fails the test.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.cpi.dates import to_epoch_ms
from core.db.models.messages import IngestWatermark
from core.db.models.scheduling import ConfigExt
from core.db.models.tenants import Tenant
from core.errors import PermanentJobError, RetryableJobError
from core.resources import Resources
from functions.ingestion.cold import read_message_logs_cold
from functions.ingestion.details import get_message_details_cold
from functions.ingestion.hot import read_message_logs
from functions.runner.context import JobContext
from simulator.config import SimulatorConfig
from simulator.server import SimulatorServer
from tests.integration.ingestion.conftest import expected_guids, set_faults, stored_guids

MakeCtx = Callable[[str], JobContext]


def ms(text: Any) -> int:
    return to_epoch_ms(datetime.fromisoformat(str(text)))


def assert_exactly(stored: list[str], expected: set[str]) -> None:
    dupes = [g for g, n in Counter(stored).items() if n > 1]
    assert not dupes, f"duplicated rows: {dupes[:5]}"
    missing, extra = expected - set(stored), set(stored) - expected
    assert not missing, f"{len(missing)} missing, e.g. {sorted(missing)[:3]}"
    assert not extra, f"{len(extra)} rows the simulator never had, e.g. {sorted(extra)[:3]}"


async def until_done(job: Callable[[], Any], attempts: int = 15) -> Any:
    """Call a job the way the runtime does: retry on RetryableJobError (no backoff in tests)."""
    for _ in range(attempts - 1):
        try:
            return await job()
        except RetryableJobError:
            await asyncio.sleep(0.1)
    return await job()


async def test_new_tenant_backfills_days_then_follows_new_messages(
    simulator: SimulatorServer,
    sim_config: SimulatorConfig,
    sim_tenant: int,
    job_ctx: MakeCtx,
    db: sessionmaker[Session],
) -> None:
    cold = await read_message_logs_cold(job_ctx("read_message_logs_cold"), sim_tenant, days=3)
    assert cold["complete"] is True
    assert cold["windows"] in (3, 4)  # day windows cut at UTC midnight
    assert_exactly(stored_guids(db, sim_tenant), expected_guids(sim_config, "tenant1", ms(cold["until"])))
    assert cold["received"] >= sim_config.history_days * sim_config.history_per_day

    first = await read_message_logs(job_ctx("read_message_logs"), sim_tenant)
    await asyncio.sleep(1.2)
    second = await read_message_logs(job_ctx("read_message_logs"), sim_tenant)
    assert_exactly(stored_guids(db, sim_tenant), expected_guids(sim_config, "tenant1", ms(second["until"])))
    assert int(second["changed"]) >= 40  # about 1.2 s x 40 msg/s of new messages
    assert int(first["changed"]) < int(first["received"]) or int(first["received"]) == 0  # overlap re-read

    with db() as session:
        marks = {m.kind: m for m in session.scalars(select(IngestWatermark))}
    assert marks["hot"].position is not None
    assert to_epoch_ms(marks["hot"].position) == ms(second["until"])
    assert marks["cold"].cursor["until"] == cold["until"]


async def test_rerunning_the_backfill_is_harmless(
    sim_config: SimulatorConfig, sim_tenant: int, job_ctx: MakeCtx, db: sessionmaker[Session]
) -> None:
    first = await read_message_logs_cold(job_ctx("read_message_logs_cold"), sim_tenant, days=1)
    again = await read_message_logs_cold(job_ctx("read_message_logs_cold"), sim_tenant, days=1)
    assert again["windows"] == 0
    assert again["complete"] is True
    deeper = await read_message_logs_cold(job_ctx("read_message_logs_cold"), sim_tenant, days=3)
    assert deeper["windows"] >= 2
    assert first["until"] == deeper["until"]
    assert_exactly(stored_guids(db, sim_tenant), expected_guids(sim_config, "tenant1", ms(first["until"])))


async def test_fault_storm_neither_loses_nor_duplicates(
    simulator: SimulatorServer,
    sim_config: SimulatorConfig,
    sim_tenant: int,
    job_ctx: MakeCtx,
    db: sessionmaker[Session],
) -> None:
    set_faults(
        simulator,
        {
            "status_429_every": 4,
            "retry_after_s": 0.2,
            "status_5xx_every": 6,
            "status_5xx_code": 500,
            "malformed_every": 9,
            "timeout_every": 11,
        },
    )
    cold = await until_done(lambda: read_message_logs_cold(job_ctx("read_message_logs_cold"), sim_tenant, days=3))
    injected = simulator_stats(simulator)["faults"]["injected"]
    assert {"429", "500", "malformed", "timeout"} <= {kind for kind, n in injected.items() if n > 0}, injected
    set_faults(simulator, {"script": ["429", "429", "503", "timeout", "malformed", "500", "429", "malformed"]})
    hot = await until_done(lambda: read_message_logs(job_ctx("read_message_logs"), sim_tenant))
    assert simulator_stats(simulator)["faults"]["script"] == []  # the whole storm was served
    set_faults(simulator, None)
    assert_exactly(stored_guids(db, sim_tenant), expected_guids(sim_config, "tenant1", ms(hot["until"])))
    assert cold["complete"] is True


def simulator_stats(simulator: SimulatorServer) -> dict[str, Any]:
    reply = httpx.get(f"{simulator.url}/_sim/tenants/tenant1/stats")
    reply.raise_for_status()
    data: dict[str, Any] = reply.json()
    return data


async def test_storm_that_outlasts_the_client_retries_is_a_retryable_job_error(
    simulator: SimulatorServer, sim_tenant: int, job_ctx: MakeCtx, db: sessionmaker[Session]
) -> None:
    set_faults(simulator, {"status_5xx_every": 1, "status_5xx_code": 503})
    with pytest.raises(RetryableJobError, match="CpiServerError"):
        await read_message_logs(job_ctx("read_message_logs"), sim_tenant)
    with db() as session:
        assert session.scalar(select(IngestWatermark).where(IngestWatermark.kind == "hot")) is None


async def test_missing_or_disabled_tenant_is_permanent(
    sim_tenant: int, job_ctx: MakeCtx, db: sessionmaker[Session]
) -> None:
    with pytest.raises(PermanentJobError, match="does not exist"):
        await read_message_logs(job_ctx("read_message_logs"), 999)
    with db.begin() as session:
        session.get_one(Tenant, sim_tenant).active = False
    with pytest.raises(PermanentJobError, match="disabled"):
        await read_message_logs_cold(job_ctx("read_message_logs_cold"), sim_tenant, days=1)


async def test_redis_flush_loses_no_stored_data_and_work_resumes(
        sim_config: SimulatorConfig, sim_tenant: int, job_ctx: MakeCtx, resources: Resources,
        db: sessionmaker[Session]) -> None:
    cold = await read_message_logs_cold(job_ctx("read_message_logs_cold"), sim_tenant, days=3)
    assert cold["queued"]  # detail and header sweeps were queued in Redis ...
    await resources.redis.flushdb()  # ... and are gone now
    hot = await read_message_logs(job_ctx("read_message_logs"), sim_tenant)
    assert_exactly(stored_guids(db, sim_tenant), expected_guids(sim_config, "tenant1", ms(hot["until"])))
    # The sweep is asked for again (its ledger row from before the flush may still hold the dedup key
    # until reconciliation skips it; either way the work list below comes from the database).
    assert "get_message_details_hot" in hot["queued"]
    swept = await get_message_details_cold(job_ctx("get_message_details_cold"), sim_tenant, limit=5000)
    assert int(swept["stored"]) > 0  # the database, not Redis, held the work list


async def test_backfill_depth_comes_from_config_when_not_passed(
        sim_tenant: int, job_ctx: MakeCtx, db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        session.add_all([ConfigExt(tenant_id=None, key="ingest.cold_days", value=9),
                         ConfigExt(tenant_id=sim_tenant, key="ingest.cold_days", value=1)])
    result = await read_message_logs_cold(job_ctx("read_message_logs_cold"), sim_tenant)
    with db() as session:
        mark = session.scalars(select(IngestWatermark).where(IngestWatermark.kind == "cold")).one()
    assert result["complete"] is True
    assert mark.cursor["days"] == 1
    with db.begin() as session:
        session.execute(update(ConfigExt).where(ConfigExt.tenant_id == sim_tenant).values(value="lots"))
    with pytest.raises(PermanentJobError, match=r"ingest\.cold_days"):
        await read_message_logs_cold(job_ctx("read_message_logs_cold"), sim_tenant)
