"""One CPI client per tenant per process: a warm token and pool across jobs, one Redis-shared rate
budget across worker processes, and the CPI call metrics each job and process records."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import cast

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.cpi import RetryPolicy
from core.cpi.metrics_store import cpi_pressure
from core.db.models.base import utcnow
from core.db.models.cpi_calls import CpiCallStat
from core.db.models.ledger import WorkerJobRun
from core.db.models.tenants import Tenant
from core.queues.catalog import function
from core.resources import Resources
from core.settings import Settings
from functions.ingestion import JOBS
from functions.runner.context import JobContext
from simulator.server import SimulatorServer
from tests.processes import process_env, wait_until


def sim_stats(simulator: SimulatorServer) -> dict[str, object]:
    reply = httpx.get(f"{simulator.url}/_sim/tenants/tenant1/stats")
    reply.raise_for_status()
    stats: dict[str, object] = reply.json()
    return stats


async def test_a_hundred_jobs_fetch_one_token_and_report_their_calls(
    simulator: SimulatorServer, sim_tenant: int, resources: Resources, job_ctx: Callable[[str], JobContext],
    db: sessionmaker[Session],
) -> None:
    tokens_before = cast(int, sim_stats(simulator)["token_requests"])
    read_correlations = JOBS["read_correlations"]
    results = await asyncio.gather(*(read_correlations(job_ctx("read_correlations"), sim_tenant, [f"corr-{i}"])
                                     for i in range(100)))
    assert sim_stats(simulator)["token_requests"] == tokens_before + 1
    assert all(r["cpi"] == {"requests": 1, "retries": 0, "throttled_ms": 0} for r in results)
    assert await resources.cpi.flush() == 1  # one row: this tenant's monitoring family
    with db() as session:
        requests = session.scalar(select(func.sum(CpiCallStat.requests)).where(CpiCallStat.tenant_id == sim_tenant))
        pressure = cpi_pressure(session, utcnow() - timedelta(minutes=5))
    assert requests == 100
    assert [(p.tenant_id, p.family, p.requests, p.throttled) for p in pressure] == [
        (sim_tenant, "monitoring", 100, 0)]
    assert pressure[0].latency_p50_ms is not None


async def test_changed_tenant_settings_give_a_new_client(sim_tenant: int, resources: Resources,
                                                         db: sessionmaker[Session]) -> None:
    policy = RetryPolicy()

    def load() -> Tenant:
        with db() as session:
            tenant = session.get(Tenant, sim_tenant)
            assert tenant is not None
            session.expunge(tenant)
            return tenant

    first = resources.cpi.client_for(load(), policy)
    assert resources.cpi.client_for(load(), policy) is first
    with db.begin() as session:
        session.execute(update(Tenant).where(Tenant.id == sim_tenant).values(rate_limit_per_s=3.0))
    assert resources.cpi.client_for(load(), policy) is not first


def test_two_worker_processes_share_the_tenants_rate_limit(
    simulator: SimulatorServer, sim_tenant: int, settings: Settings, db: sessionmaker[Session], tmp_path: Path,
) -> None:
    """12 jobs of 5 requests each on two processes, tenant capped at 8/s: together they stay under 8/s."""
    limit = 8.0
    with db.begin() as session:
        session.execute(update(Tenant).where(Tenant.id == sim_tenant).values(rate_limit_per_s=limit))
    enqueue = subprocess.run(
        [sys.executable, "-m", "integramon", "enqueue", "read_correlations", "--tenant", str(sim_tenant),
         "--count", "12", "--args", f'{{"tenant_id": {sim_tenant}, "correlation_ids": ["a","b","c","d","e"]}}'],
        env=process_env(settings), capture_output=True, text=True, check=False)
    assert enqueue.returncode == 0, enqueue.stderr
    queue = function("read_correlations").queue
    log = tmp_path / "workers.log"
    workers = [subprocess.Popen([sys.executable, "-m", "integramon", "worker", "--queue", queue, "--concurrency", "4"],
                                env=process_env(settings), stdout=log.open("ab"), stderr=subprocess.STDOUT)
               for _ in range(2)]
    try:
        def finished() -> bool:
            with db() as session:
                return session.scalar(select(func.count()).select_from(WorkerJobRun).where(
                    WorkerJobRun.status == "succeeded")) == 12
        wait_until(finished, timeout=60, interval=0.2, what="12 correlation jobs done")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(20)
    with db() as session:
        by_worker = session.execute(select(WorkerJobRun.worker_id, func.count()).group_by(WorkerJobRun.worker_id)).all()
    assert len(by_worker) == 2, f"both processes should have taken jobs: {by_worker}"
    per_second = {int(k): v for k, v in cast("dict[str, int]", sim_stats(simulator)["requests_by_second"]).items()}
    busy = [per_second[s] for s in range(min(per_second), max(per_second) + 1) if s in per_second]
    total = sum(per_second.values())
    assert total >= 60
    # SharedRateLimits uses fixed one-second windows: a window never admits more than the limit, but a
    # request admitted at a window's end may reach the simulator in the next second.
    assert total / len(busy) <= limit * 1.15, busy
    assert max(busy) <= 2 * limit, busy
