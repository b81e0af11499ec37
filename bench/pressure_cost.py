"""What the bottleneck figures cost the workers: ``bench.throughput``'s run (5,000 no-op jobs, one
worker process, ledger on PostgreSQL) with and without the controller's pressure sampler running
beside it, interleaved; plus the CPU cost of counting one CPI request (call metrics, per-job tally).

The sampler runs every second here (15 times the default rate), so the measured cost is an upper
bound. Target: under 2 % of worker throughput.
Usage: python -m bench.pressure_cost [--jobs N] [--repeat R] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import multiprocessing.synchronize
import tempfile
import time
from pathlib import Path

from bench.common import bench_settings, median
from bench.throughput import run_ours
from core.cpi.metrics import CpiCallMetrics, TenantCallObserver, job_tally
from core.settings import Settings


def _sampler_process(settings: Settings, stop: multiprocessing.synchronize.Event, interval_s: float) -> None:
    from controller.pressure import PressureSampler  # the controller's own loop body
    from core.resources import open_resources

    async def loop() -> None:
        async with open_resources(settings) as res:
            sampler = PressureSampler(settings, res.engine, res.sessions, res.redis)
            while not stop.is_set():
                await sampler.tick()
                await asyncio.sleep(interval_s)

    asyncio.run(loop())


def run_with_sampler(settings: Settings, jobs: int, concurrency: int) -> float:
    stop = multiprocessing.get_context("spawn").Event()
    proc = multiprocessing.get_context("spawn").Process(target=_sampler_process, args=(settings, stop, 1.0))
    proc.start()
    try:
        time.sleep(2.0)  # the sampler is running before the worker starts
        return run_ours(settings, jobs, concurrency)
    finally:
        stop.set()
        proc.join(20)


def observe_cost_ns(requests: int = 200_000) -> float:
    """Nanoseconds to count one CPI request and one retry in the process metrics and a job's tally."""
    observer = TenantCallObserver(CpiCallMetrics(), 1)
    with job_tally():
        started = time.perf_counter_ns()
        for i in range(requests):
            observer.response("monitoring", 200, float(i % 500))
        elapsed = time.perf_counter_ns() - started
    return elapsed / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings("pressure_cost", 12, Path(tmp))
        plain, sampled = [], []
        for _ in range(args.repeat):
            plain.append(run_ours(settings, args.jobs, args.concurrency))
            sampled.append(run_with_sampler(settings, args.jobs, args.concurrency))
    per_request_ns = observe_cost_ns()
    cost = 1 - median(sampled) / median(plain)
    result = {"benchmark": "pressure_cost", "jobs": args.jobs, "repeat": args.repeat,
              "without_sampler_jobs_per_s": round(median(plain), 1),
              "with_sampler_jobs_per_s": round(median(sampled), 1),
              "sampler_cost_percent": round(cost * 100, 2), "target_percent": 2.0,
              "cpi_observe_ns_per_request": round(per_request_ns, 1),
              "runs_without": [round(x, 1) for x in plain], "runs_with": [round(x, 1) for x in sampled]}
    print(f"{'worker throughput':40} {'jobs/s (median)':>16}")
    print(f"{'without the pressure sampler':40} {result['without_sampler_jobs_per_s']:>16}")
    print(f"{'with the sampler every 1 s':40} {result['with_sampler_jobs_per_s']:>16}")
    print(f"{'cost (target < 2 %)':40} {result['sampler_cost_percent']:>15}%")
    print(f"{'counting one CPI request':40} {result['cpi_observe_ns_per_request']:>13} ns")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
