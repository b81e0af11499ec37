"""Late-arriving message logs: the simulator's late-arrival fault hides some logs until seconds after their
LogEnd; the hot reader (short overlap) misses them, the settle pass stores every one of them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from core.cpi.dates import to_epoch_ms
from core.db.models.base import utcnow
from core.db.models.scheduling import ConfigExt
from core.db.models.tenants import Tenant
from functions.ingestion.hot import read_message_logs
from functions.ingestion.settle import SETTLE, plan_settle, settle_message_logs
from functions.ingestion.watermarks import write_watermark
from functions.runner.context import JobContext
from simulator.config import SimulatorConfig
from simulator.faults import FaultSettings
from simulator.late import is_late
from simulator.server import SimulatorServer
from tests.integration.ingestion.conftest import expected_guids, set_faults, simulator_series, stored_guids

MakeCtx = Callable[[str], JobContext]
DELAY_S = 4
LATE_EVERY = 3


def _ms(text: object) -> int:
    return to_epoch_ms(datetime.fromisoformat(str(text)))


async def test_settle_pass_stores_every_late_arrival(
    simulator: SimulatorServer, sim_config: SimulatorConfig, sim_tenant: int, job_ctx: MakeCtx,
    db: sessionmaker[Session],
) -> None:
    set_faults(simulator, {"late_every": LATE_EVERY, "late_delay_s": DELAY_S})
    with db.begin() as session:  # the smallest recent window the registry allows, to keep the test light
        session.execute(insert(ConfigExt), [{"tenant_id": sim_tenant, "key": "ingest.settle.recent_s", "value": 60}])
        write_watermark(session, sim_tenant, SETTLE, utcnow(), {"day_at": utcnow().isoformat()})  # not the day tier

    first = await read_message_logs(job_ctx("read_message_logs"), sim_tenant, overlap_s=0.5, lookback_s=2)
    last = first
    for _ in range(6):  # follow new logs for a few seconds, re-reading only half a second behind
        await asyncio.sleep(1)
        last = await read_message_logs(job_ctx("read_message_logs"), sim_tenant, overlap_s=0.5, lookback_s=2)
    since_ms, until_ms = _ms(first["from"]), _ms(last["until"])
    record = expected_guids(sim_config, "tenant1", until_ms, since_ms)
    series = simulator_series(sim_config, "tenant1")
    late = {series.guid(i) for i in range(series.visible_count(until_ms))
            if series.guid(i) in record and is_late(FaultSettings(late_every=LATE_EVERY), i)}
    missed = record - set(stored_guids(db, sim_tenant))
    assert late, "no late message in the window: this run proves nothing"
    assert missed, "the fault must make the hot reader miss some logs, or this test proves nothing"
    assert missed <= late  # only late arrivals were missed

    await asyncio.sleep(DELAY_S + 1)  # every log up to the last hot run is visible now
    settled = await settle_message_logs(job_ctx("settle_message_logs"), sim_tenant)
    assert settled["window"] == "recent"
    assert settled["window_s"] == 60
    assert int(str(settled["pages"])) >= 1
    stored = set(stored_guids(db, sim_tenant))
    assert record <= stored, f"{len(record - stored)} late logs still missing"
    assert len(stored) == len(stored_guids(db, sim_tenant))  # no duplicates
    assert stored <= expected_guids(sim_config, "tenant1", _ms(settled["until"]))  # nothing invented


def test_deep_window_runs_once_per_interval(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        tenant = Tenant(name="plain", api_url="http://127.0.0.1:1/api/v1", client_id="c", client_secret_encrypted="x")
        session.add(tenant)
        session.flush()
        tenant_id_plain = tenant.id
    now = utcnow()
    assert plan_settle(db, tenant_id_plain, now).deep  # never ran: the day tier first
    for minutes_ago, deep in ((30, False), (59, False), (60, True), (120, True)):
        with db.begin() as session:
            write_watermark(session, tenant_id_plain, SETTLE, now,
                            {"day_at": (now - timedelta(minutes=minutes_ago)).isoformat()})
        plan = plan_settle(db, tenant_id_plain, now)
        assert (plan.deep, plan.window_s) == (deep, 86400 if deep else 7200)
        assert plan.start == now - timedelta(seconds=plan.window_s)
