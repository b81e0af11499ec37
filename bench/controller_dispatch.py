"""One poll-dispatch tick of the controller for 5,000 tenants x 5 polling kinds (all due). Target <= 1 s.

Each repetition starts from an empty ledger and an empty Redis db (so no poll state), so every one of
the 25,000 (tenant, kind) pairs is due: the tick plans them, writes 25,000 ledger rows, pushes 25,000
arq jobs and records the poll state ("all due", the cold start). Also timed: a tick 5 s later with
nothing due, and, once those jobs have finished, the tick a minute later when every tenant's hot
poll is due again (5,000 jobs, the steady-state peak).
Usage: python -m bench.controller_dispatch [--tenants N] [--repeat R] [--redis-db D]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from bench.common import bench_settings, median, reset_redis
from controller.dispatch import POLL_FUNCTIONS, PollDispatcher
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.tenants import Tenant
from core.resources import Resources, open_resources
from core.settings import Settings

TARGET_S = 1.0


def _add_tenants(res: Resources, count: int) -> None:
    rows = [{"id": i, "name": f"tenant-{i}", "api_url": "http://127.0.0.1:1/api/v1", "client_id": "c",
             "client_secret_encrypted": "x", "active": True} for i in range(1, count + 1)]
    with res.sessions() as session, session.begin():
        session.execute(insert(Tenant), rows)


def _reset(res: Resources) -> None:
    with res.engine.begin() as conn:
        conn.execute(text("TRUNCATE worker_job_run RESTART IDENTITY CASCADE"))
    reset_redis(res.settings)


def _ledger_rows(res: Resources) -> int:
    with res.sessions() as session:
        return int(session.execute(select(func.count()).select_from(WorkerJobRun)).scalar_one())


def _finish_all(res: Resources) -> None:
    """As if workers had run every job (not timed)."""
    with res.engine.begin() as conn:
        conn.execute(text("UPDATE worker_job_run SET status = 'succeeded', finished_at = now()"))


async def _timed_tick(dispatcher: PollDispatcher, now: datetime, expected: int) -> float:
    started = time.perf_counter()
    result = await dispatcher.tick(now)
    took = time.perf_counter() - started
    if result.enqueued != expected:
        raise SystemExit(f"tick enqueued {result.enqueued}, expected {expected}")
    return took


async def _measure(settings: Settings, tenants: int, repeat: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"all": [], "hot": [], "idle": []}
    async with open_resources(settings) as res:
        _add_tenants(res, tenants)
        for _ in range(repeat):
            _reset(res)
            dispatcher = PollDispatcher(res.sessions, res.redis, res.enqueuer)
            now = utcnow()
            figures["all"].append(await _timed_tick(dispatcher, now, tenants * len(POLL_FUNCTIONS)))
            if _ledger_rows(res) != tenants * len(POLL_FUNCTIONS):
                raise SystemExit("ledger rows missing")
            figures["idle"].append(await _timed_tick(dispatcher, now + timedelta(seconds=5), 0))
            _finish_all(res)
            figures["hot"].append(await _timed_tick(dispatcher, now + timedelta(seconds=61), tenants))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--redis-db", type=int, default=14)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings("controller_dispatch", args.redis_db, Path(tmp))
        figures = asyncio.run(_measure(settings, args.tenants, args.repeat))
    jobs = {"all": args.tenants * len(POLL_FUNCTIONS), "hot": args.tenants, "idle": 0}
    labels = {"all": "all due", "hot": "hot due", "idle": "none due"}
    print(f"{'tick':12} {'jobs':>7} {'median s':>9} {'runs s':>36}")
    for key, runs in figures.items():
        print(f"{labels[key]:12} {jobs[key]:>7} {median(runs):>9.3f} {' '.join(f'{x:.3f}' for x in runs):>36}")
    print(json.dumps({"bench": "controller_dispatch", "tenants": args.tenants, "jobs": jobs["all"],
                      "tick_s": round(median(figures["all"]), 3), "hot_tick_s": round(median(figures["hot"]), 3),
                      "idle_tick_s": round(median(figures["idle"]), 3), "target_s": TARGET_S,
                      "ok": median(figures["all"]) <= TARGET_S}))

if __name__ == "__main__":
    main()
