"""A worker process killed with SIGKILL in the middle of ingestion loses nothing and duplicates
nothing: the killed job is claimed again once its lease expires, watermarks never ran ahead of the
rows, and the upsert absorbs whatever the dead worker had already committed.

Workers run as real ``integramon worker`` subprocesses against real Redis and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.cpi.dates import to_epoch_ms
from core.db.models.ledger import WorkerJobRun
from core.db.models.messages import IngestWatermark, MessageLog
from core.queues.catalog import function
from core.queues.enqueue import EnqueueRequest
from core.resources import Resources
from core.settings import Settings, settings_to_env
from simulator.config import SimulatorConfig
from simulator.server import SimulatorServer
from tests.integration.ingestion.conftest import expected_guids, raw_pages, set_faults, stored_guids

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def sim_config() -> SimulatorConfig:
    return SimulatorConfig(
        tenants=1, seed=23, rate=0.0, failure_ratio=0.05, history_days=2, history_per_day=8000, hang_s=3.0
    )


@pytest.fixture
def start_worker(settings: Settings) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(group: str, *extra: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, **settings_to_env(settings)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "integramon", "worker", "--group", group, *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def count_rows(db: sessionmaker[Session]) -> int:
    with db() as session:
        return int(session.scalar(select(func.count()).select_from(MessageLog)) or 0)


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def kill_mid_run(proc: subprocess.Popen[bytes]) -> None:
    assert proc.poll() is None, "worker exited before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


async def finish_with_burst_worker(
    start: Callable[..., subprocess.Popen[bytes]], group: str, settings: Settings
) -> None:
    """After the dead worker's lease expired, a burst worker claims the job again and drains the queue."""
    await asyncio.sleep(settings.job_lease_seconds + 0.5)
    proc = start(group, "--burst")
    returncode = await asyncio.to_thread(proc.wait, 120)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert returncode == 0, stderr[-2000:]


async def test_sigkill_during_cold_backfill_loses_nothing(
    simulator: SimulatorServer,
    sim_config: SimulatorConfig,
    sim_tenant: int,
    resources: Resources,
    settings: Settings,
    db: sessionmaker[Session],
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    set_faults(simulator, {"latency_ms": 150})  # slow pages, so the kill lands mid-backfill
    await resources.enqueuer.enqueue(
        function("read_message_logs_cold"), {"tenant_id": sim_tenant, "days": 3}, tenant_id=sim_tenant
    )
    worker = start_worker("light-cold")
    await wait_for(lambda: count_rows(db) >= 3000, 60, "the first pages to be committed")
    kill_mid_run(worker)

    stored = set(stored_guids(db, sim_tenant))
    total = sim_config.history_days * sim_config.history_per_day
    assert 0 < len(stored) < total, "the kill should land in the middle of the backfill"
    with db() as session:
        mark = session.scalars(select(IngestWatermark).where(IngestWatermark.kind == "cold")).one()
    assert mark.position is not None
    covered = expected_guids(
        sim_config, "tenant1", to_epoch_ms_text(mark.cursor["until"]), since_ms=to_epoch_ms(mark.position)
    )
    assert covered <= stored, "the watermark claims rows that were never committed"

    set_faults(simulator, None)
    await finish_with_burst_worker(start_worker, "light-cold", settings)
    final = stored_guids(db, sim_tenant)
    assert len(final) == len(set(final))
    assert set(final) == expected_guids(sim_config, "tenant1", to_epoch_ms_text(mark.cursor["until"]))


def to_epoch_ms_text(text: str) -> int:
    return to_epoch_ms(datetime.fromisoformat(text))


async def test_sigkill_during_batch_processing_loses_nothing(
    simulator: SimulatorServer,
    sim_config: SimulatorConfig,
    sim_tenant: int,
    resources: Resources,
    settings: Settings,
    db: sessionmaker[Session],
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    pages = await raw_pages(simulator)
    requests = [
        EnqueueRequest(
            function("process_message_batch"), {"tenant_id": sim_tenant, "entities": page}, tenant_id=sim_tenant
        )
        for page in pages
    ]
    assert len(await resources.enqueuer.enqueue_many(requests)) == len(pages)
    worker = start_worker("messagelog-process-batch")
    await wait_for(lambda: count_rows(db) > 0, 60, "the first batch to be committed")
    kill_mid_run(worker)
    assert count_rows(db) < sum(len(p) for p in pages), "the kill should land before all batches are done"

    await finish_with_burst_worker(start_worker, "messagelog-process-batch", settings)
    final = stored_guids(db, sim_tenant)
    assert len(final) == len(set(final))
    assert set(final) == {entity["MessageGuid"] for page in pages for entity in page}
    with db() as session:
        statuses = session.scalars(
            select(WorkerJobRun.status).where(WorkerJobRun.function == "process_message_batch")
        ).all()
    assert set(statuses) == {"succeeded"}
