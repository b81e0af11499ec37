"""Throughput: 5,000 no-op jobs drained by ONE worker process, timed from process start to exit.

Method of the design's performance brief (performance.md): enqueue first, then start the worker (burst mode) and time
until all jobs are done. IntegraMon runs with the ledger on PostgreSQL (every job has its row and an
attempt row); raw arq (poll_delay 0.05 s, max_jobs 100, no ledger) runs in the same session.
Usage: python -m bench.throughput [--jobs N] [--repeat R] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from arq import create_pool
from arq.connections import RedisSettings
from sqlalchemy import func, select

from bench.common import bench_settings, child_env, integramon_cmd, median, private_redis_server, reset_redis
from core.db.models.ledger import WorkerJobRun
from core.db.session import create_db_engine
from core.queues.catalog import NOOP
from core.queues.enqueue import EnqueueRequest
from core.resources import open_resources
from core.settings import Settings


async def _enqueue_ours(settings: Settings, jobs: int) -> None:
    async with open_resources(settings) as res:
        spec = NOOP
        for start in range(0, jobs, 1000):
            await res.enqueuer.enqueue_many([EnqueueRequest(spec) for _ in range(min(1000, jobs - start))])


def run_ours(settings: Settings, jobs: int, concurrency: int) -> float:
    reset_redis(settings)
    engine = create_db_engine(settings.resolved_database_url)
    with engine.begin() as conn:
        conn.execute(WorkerJobRun.__table__.delete())  # type: ignore[attr-defined]
    asyncio.run(_enqueue_ours(settings, jobs))
    started = time.perf_counter()
    subprocess.run(integramon_cmd("worker", "--queue", "periodic_run", "--burst", "--concurrency", str(concurrency)),
                   env=child_env(settings), check=True)
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        done = conn.execute(select(func.count()).select_from(WorkerJobRun)
                            .where(WorkerJobRun.status == "succeeded")).scalar_one()
    engine.dispose()
    if done != jobs:
        raise SystemExit(f"only {done} of {jobs} jobs succeeded in the ledger")
    return jobs / elapsed


async def _enqueue_arq(jobs: int, url: str) -> None:
    pool = await create_pool(RedisSettings.from_dsn(url), default_queue_name="arq:queue:bench")
    await pool.flushdb()
    for start in range(0, jobs, 500):
        await asyncio.gather(*(pool.enqueue_job("noop") for _ in range(min(500, jobs - start))))
    await pool.aclose()


def run_arq(jobs: int, url: str) -> float:
    asyncio.run(_enqueue_arq(jobs, url))
    env = {**os.environ, "BENCH_ARQ_REDIS": url}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "arq", "bench.arq_noop.WorkerSettings", "--burst"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return jobs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, private_redis_server(Path(tmp)) as redis_url:
        arq_redis = redis_url.rsplit("/", 1)[0] + "/1"
        name = "throughput" + os.environ.get("BENCH_DB_SUFFIX", "")  # parallel runs: one database each
        settings = bench_settings(name, 0, Path(tmp), redis_url=redis_url)
        ours, raw = [], []
        for _ in range(args.repeat):
            ours.append(run_ours(settings, args.jobs, args.concurrency))
            raw.append(run_arq(args.jobs, arq_redis))
    result = {
        "benchmark": "throughput", "jobs": args.jobs, "repeat": args.repeat, "concurrency": args.concurrency,
        "integramon_jobs_per_s": round(median(ours), 1), "raw_arq_jobs_per_s": round(median(raw), 1),
        "ratio": round(median(ours) / median(raw), 2), "target_ratio": 1.0,
        "integramon_runs": [round(x, 1) for x in ours], "raw_arq_runs": [round(x, 1) for x in raw],
    }
    result["targets_met"] = result["ratio"] >= result["target_ratio"]
    print(f"{'runtime':38} {'jobs/s (median of ' + str(args.repeat) + ')':>24}")
    print(f"{'IntegraMon worker, ledger on PostgreSQL':38} {result['integramon_jobs_per_s']:>24}")
    print(f"{'raw arq (poll 0.05 s, max_jobs 100)':38} {result['raw_arq_jobs_per_s']:>24}")
    print(f"{'ratio (target >= 1.0)':38} {result['ratio']:>24}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
