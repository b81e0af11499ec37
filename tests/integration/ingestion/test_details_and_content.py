"""Message details, custom headers, correlations, payloads and iflow zips against the simulator,
each compared with the simulator's own record of what the tenant holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.integration_content import IflowArtifact, IntegrationPackage
from core.db.models.ledger import WorkerJobRun
from core.db.models.message_details import (
    MessageAdapterAttribute,
    MessageAttachment,
    MessageCustomHeader,
    PayloadEntry,
)
from core.db.models.messages import MessageLog
from core.db.models.tenants import Tenant
from core.errors import PermanentJobError
from core.resources import Resources
from core.settings import Settings
from core.storage import open_store
from functions.ingestion.cold import read_message_logs_cold
from functions.ingestion.correlations import read_correlations
from functions.ingestion.details import get_message_details_alert, get_message_details_cold, get_message_details_hot
from functions.ingestion.followups import details_pending
from functions.ingestion.headers import read_custom_headers
from functions.ingestion.packages import deep_sync_iflow_artifacts, download_iflow, read_packages
from functions.ingestion.payloads import get_payload_details, read_payloads
from functions.runner.context import JobContext
from simulator.catalog import TenantCatalog
from simulator.config import SimulatorConfig
from simulator.server import SimulatorServer
from tests.integration.ingestion.conftest import simulator_series

MakeCtx = Callable[[str], JobContext]


@pytest.fixture
def sim_config() -> SimulatorConfig:
    return SimulatorConfig(
        tenants=1, seed=5, rate=2.0, failure_ratio=0.2, history_days=2, history_per_day=300, hang_s=3.0
    )


@pytest.fixture
async def backfilled(sim_tenant: int, job_ctx: MakeCtx) -> int:
    await read_message_logs_cold(job_ctx("read_message_logs_cold"), sim_tenant, days=3)
    return sim_tenant


def queued_functions(db: sessionmaker[Session]) -> list[str]:
    with db() as session:
        return sorted(session.scalars(select(WorkerJobRun.function)))


async def test_failed_messages_get_error_text_attachments_and_adapter_attributes(
    backfilled: int, sim_config: SimulatorConfig, job_ctx: MakeCtx, db: sessionmaker[Session]
) -> None:
    assert "get_message_details_cold" in queued_functions(db) or "get_message_details_hot" in queued_functions(db)
    hot = await get_message_details_hot(job_ctx("get_message_details_hot"), backfilled, limit=2000)
    cold = await get_message_details_cold(job_ctx("get_message_details_cold"), backfilled, limit=2000)
    assert int(hot["stored"]) + int(cold["stored"]) > 50
    assert not details_pending(db, backfilled)
    series = simulator_series(sim_config, "tenant1")
    with db() as session:
        failed = session.scalars(select(MessageLog).where(MessageLog.status.in_(["FAILED", "ESCALATED"]))).all()
        attachments = dict(
            session.execute(
                select(MessageAttachment.message_guid, func.count()).group_by(MessageAttachment.message_guid)
            )
            .all()
        )
        attributes = dict(
            session.execute(
                select(MessageAdapterAttribute.message_guid, func.count()).group_by(
                    MessageAdapterAttribute.message_guid
                )
            )
            .all()
        )
    assert failed
    for row in failed:
        facts = series.facts(series.index_of_guid(row.message_guid) or 0)
        assert row.error_text == series.error_text(facts)
        assert attachments.get(row.message_guid, 0) == series.attachment_count(facts)
        assert attributes[row.message_guid] == len(series.adapter_attributes(facts))
        assert row.details_fetched_at is not None
    assert "read_correlations" in queued_functions(db)


async def test_rerunning_details_replaces_instead_of_duplicating(
    backfilled: int, job_ctx: MakeCtx, db: sessionmaker[Session]
) -> None:
    with db() as session:
        guids = list(session.scalars(select(MessageLog.message_guid).where(MessageLog.status == "FAILED").limit(20)))
    for _ in range(2):
        await get_message_details_hot(job_ctx("get_message_details_hot"), backfilled, message_guids=guids)
    with db() as session:
        per_message = (
            session.execute(
                select(MessageAttachment.message_guid, func.count()).group_by(MessageAttachment.message_guid)
            )
            .all()
        )
    assert per_message
    assert max(n for _, n in per_message) <= 2  # the simulator gives a failed message 1 or 2


async def test_alert_details_store_a_message_not_ingested_yet(
    sim_tenant: int, sim_config: SimulatorConfig, job_ctx: MakeCtx, db: sessionmaker[Session]
) -> None:
    series = simulator_series(sim_config, "tenant1")
    index = next(i for i in range(series.history_count) if series.facts(i).status == "FAILED")
    guid = series.guid(index)
    result = await get_message_details_alert(job_ctx("get_message_details_alert"), sim_tenant, [guid])
    assert result["stored"] == 1
    with db() as session:
        row = session.scalars(select(MessageLog).where(MessageLog.message_guid == guid)).one()
    assert row.status == "FAILED"
    assert row.error_text == series.error_text(series.facts(index))


async def test_correlations_restore_the_whole_chain(
    backfilled: int, sim_config: SimulatorConfig, job_ctx: MakeCtx, db: sessionmaker[Session]
) -> None:
    series = simulator_series(sim_config, "tenant1")
    correlation = series.correlation_id(30)
    with db.begin() as session:
        session.execute(delete(MessageLog).where(MessageLog.correlation_id == correlation))
    result = await read_correlations(job_ctx("read_correlations"), backfilled, [correlation])
    again = await read_correlations(job_ctx("read_correlations"), backfilled, [correlation])
    with db() as session:
        chain = set(session.scalars(select(MessageLog.message_guid).where(MessageLog.correlation_id == correlation)))
    assert chain == {series.guid(i) for i in series.indexes_of_correlation(correlation)}
    assert result["changed"] == 3
    assert again["changed"] == 0


async def test_custom_headers_sweep_newest_messages(
    backfilled: int, sim_config: SimulatorConfig, job_ctx: MakeCtx, db: sessionmaker[Session]
) -> None:
    first = await read_custom_headers(job_ctx("read_custom_headers"), backfilled, limit=60)
    second = await read_custom_headers(job_ctx("read_custom_headers"), backfilled, limit=60)
    assert first["messages"] == 60
    assert second["messages"] == 60
    series = simulator_series(sim_config, "tenant1")
    with db() as session:
        rows = (
            session.execute(
                select(MessageCustomHeader.message_guid, MessageCustomHeader.name, MessageCustomHeader.value)
            )
            .all()
        )
        swept = session.scalar(select(func.count()).where(MessageLog.headers_fetched_at.is_not(None)))
    assert swept == 120
    expected = {
        (series.guid(int(hid) // 8), name, value)
        for guid in {g for g, _, _ in rows}
        for hid, name, value in series.custom_headers(series.facts(series.index_of_guid(guid) or 0))
    }
    assert sorted(rows) == sorted(expected)


async def test_payloads_listed_and_downloaded_into_storage(
    backfilled: int, sim_config: SimulatorConfig, settings: Settings, job_ctx: MakeCtx, db: sessionmaker[Session]
) -> None:
    listed = await read_payloads(job_ctx("read_payloads"), backfilled, limit=150, lookback_s=4 * 86400)
    assert listed["messages"] == 150
    assert int(listed["entries"]) > 0
    fetched = await get_payload_details(job_ctx("get_payload_details"), backfilled, limit=500)
    assert fetched["stored"] == listed["entries"]
    series = simulator_series(sim_config, "tenant1")
    store = open_store(settings)
    with db() as session:
        entries = session.scalars(select(PayloadEntry)).all()
    for entry in entries:
        facts = series.facts(series.index_of_guid(entry.message_guid) or 0)
        assert entry.entry_id == series.store_entry_id(facts)
        assert entry.object_key is not None
        assert store.get_bytes(entry.object_key) == series.store_payload(facts)
    nothing_left = await get_payload_details(job_ctx("get_payload_details"), backfilled)
    assert nothing_left["entries"] == 0


@pytest.mark.parametrize("backend", ["local", "s3"])
async def test_iflow_zips_downloaded_only_when_version_changes(
    backend: str,
    request: pytest.FixtureRequest,
    simulator: SimulatorServer,
    sim_config: SimulatorConfig,
    sim_tenant: int,
    resources: Resources,
    job_ctx: MakeCtx,
    db: sessionmaker[Session],
) -> None:
    if backend == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        resources.settings = replace(
            resources.settings, s3_bucket=bucket, s3_endpoint_url=request.getfixturevalue("s3_endpoint")
        )
    catalog = _catalog(simulator)
    listed = await read_packages(job_ctx("read_packages"), sim_tenant)
    assert listed.pop("cpi") == {"requests": len(catalog.packages) + 1, "retries": 0, "throttled_ms": 0}
    assert listed == {
        "packages": len(catalog.packages),
        "artifacts": len(catalog.iflows),
        "outdated": len(catalog.iflows),
    }
    synced = await deep_sync_iflow_artifacts(job_ctx("deep_sync_iflow_artifacts"), sim_tenant)
    assert synced["downloads_queued"] == len(catalog.iflows)
    flow = catalog.iflows[0]
    first = await download_iflow(job_ctx("download_iflow"), sim_tenant, flow.id)
    again = await download_iflow(job_ctx("download_iflow"), sim_tenant, flow.id)
    assert first["downloaded"] is True
    assert again["downloaded"] is False
    store = open_store(resources.settings)
    with db() as session:
        row = session.scalars(select(IflowArtifact).where(IflowArtifact.artifact_id == flow.id)).one()
        assert session.scalar(select(func.count()).select_from(IntegrationPackage)) == len(catalog.packages)
    assert row.object_key is not None
    assert store.get_bytes(row.object_key) == catalog.zip_for(flow)

    async with httpx.AsyncClient() as http:
        bump = await http.post(f"{simulator.url}/_sim/tenants/tenant1/iflows/{flow.id}/bump-version")
    bump.raise_for_status()
    resync = await deep_sync_iflow_artifacts(job_ctx("deep_sync_iflow_artifacts"), sim_tenant)
    assert resync["outdated"] == len(catalog.iflows)  # the others were never downloaded
    bumped = await download_iflow(job_ctx("download_iflow"), sim_tenant, flow.id)
    assert bumped["version"] == flow.version
    assert bumped["downloaded"] is True
    with db() as session:
        row = session.scalars(select(IflowArtifact).where(IflowArtifact.artifact_id == flow.id)).one()
    assert row.stored_version == flow.version
    assert row.object_key is not None
    assert store.get_bytes(row.object_key) == catalog.zip_for(flow)


def _catalog(simulator: SimulatorServer) -> TenantCatalog:
    """The running simulator's live catalog (its own record, including version bumps)."""
    app = simulator._server.config.app
    assert isinstance(app, Litestar)
    catalog: TenantCatalog = app.state.sim.tenants["tenant1"].catalog
    return catalog


async def test_disabled_tenant_details_are_permanent(
    sim_tenant: int, job_ctx: MakeCtx, db: sessionmaker[Session]
) -> None:
    with db.begin() as session:
        session.get_one(Tenant, sim_tenant).active = False
    with pytest.raises(PermanentJobError):
        await read_packages(job_ctx("read_packages"), sim_tenant)
