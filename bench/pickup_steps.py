"""Where pickup latency goes, step by step: one process plays both sides with the real components (the
Enqueuer on the real ledger, a pub/sub wake-up listener like the worker's, JobClaimer's one-step claim
of the jobs a wake-up names, a task started for the job) and stamps each step, one job at a time,
20 ms apart. It probes the named-claim path: a worker with a hand-off offer open (core.queues.handoff)
skips "wake" and "claim", its job arrives with the hand-off message instead (``bench.latency``
measures that path end to end).

Steps (ms, p50/p99 of each, and their share of the p50 total):
  insert   enqueue call start -> ledger row committed (PostgreSQL autocommit INSERT)
  push     -> Redis enqueue script returned (job + wake-up PUBLISH in one call; the call returns here)
  wake     -> the listener got the wake-up message (naming the job)
  claim    -> the one-step claim of the named job returned (claim_named.lua: reserve + SET NX lease +
              payload; an idle worker's path, see core.queues.wake)
  start    -> the job's task began running
Two references are timed in the same run, interleaved: a plain autocommit INSERT into a one-column
table (what the disk and server cost at this moment), and the same ledger INSERT through the
SQLAlchemy session in a thread (the path enqueue took before the direct psycopg pool).
Usage: python -m bench.pickup_steps [--jobs N] [--gap-ms G]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench.common import bench_settings, percentile, private_redis_server
from core.queues.catalog import NOOP
from core.queues.claim import JobClaimer
from core.queues.enqueue import EnqueueRequest
from core.queues.keys import wake_channel
from core.queues.wake import named_jobs
from core.resources import open_resources
from core.settings import Settings

STEPS = ("insert", "push", "wake", "claim", "start")


Samples = tuple[dict[str, list[float]], list[float], list[float]]  # steps, plain INSERT, session INSERT


async def _measure(settings: Settings, jobs: int, gap_s: float) -> Samples:
    steps: dict[str, list[float]] = {name: [] for name in STEPS}
    plain: list[float] = []
    session_path: list[float] = []
    async with open_resources(settings) as res:
        enqueuer = res.enqueuer
        stamp: dict[str, float] = {}
        real_insert, real_push = enqueuer._insert, enqueuer._push

        async def insert(*args: Any) -> Any:
            result = await real_insert(*args)
            stamp["insert"] = time.perf_counter()
            return result

        async def push(*args: Any) -> Any:
            result = await real_push(*args)
            stamp["push"] = time.perf_counter()
            return result

        enqueuer._insert, enqueuer._push = insert, push  # type: ignore[method-assign,assignment]
        claimer = JobClaimer(res.redis, [NOOP.queue], "pickup-steps", 30_000)
        pubsub = res.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(wake_channel(NOOP.queue))
        started = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def job() -> None:
            stamp["start"] = time.perf_counter()
            started.set()

        dsn = "postgresql://" + res.engine.url.render_as_string(hide_password=False).split("://", 1)[1]
        reference = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        await reference.execute("CREATE TABLE IF NOT EXISTS bench_plain_insert (id bigserial PRIMARY KEY, v text)")

        async def worker() -> None:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                if message is None:
                    continue
                stamp["wake"] = time.perf_counter()
                named = [(NOOP.queue, job_id) for job_id in named_jobs(message["data"]) or []]
                claimed = await claimer.claim_named(named)
                stamp["claim"] = time.perf_counter()
                for held in claimed:
                    tasks.add(asyncio.create_task(job()))
                    await claimer.finish([])
                    claimer._held.pop(held.job_id, None)

        listener = asyncio.create_task(worker())
        await asyncio.sleep(0.2)
        try:
            for _ in range(jobs):
                before = time.perf_counter()
                await reference.execute("INSERT INTO bench_plain_insert (v) VALUES ('x')")
                plain.append((time.perf_counter() - before) * 1000)
                await asyncio.sleep(gap_s / 4)
                before = time.perf_counter()
                await asyncio.to_thread(enqueuer._insert_rows, [(EnqueueRequest(NOOP, {}), os.urandom(16).hex())],
                                        datetime.now(UTC))
                session_path.append((time.perf_counter() - before) * 1000)
                await asyncio.sleep(gap_s / 4)
                stamp.clear()
                started.clear()
                stamp["call"] = time.perf_counter()
                await enqueuer.enqueue(NOOP, {})
                await asyncio.wait_for(started.wait(), 10)
                previous = stamp["call"]
                for name in STEPS:
                    steps[name].append((stamp[name] - previous) * 1000)
                    previous = stamp[name]
                await asyncio.sleep(gap_s / 2)
        finally:
            listener.cancel()
            await reference.close()
            await pubsub.aclose()  # type: ignore[no-untyped-call]
    return steps, plain, session_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, private_redis_server(Path(tmp)) as redis_url:
        settings = bench_settings("pickup_steps", 0, Path(tmp), redis_url=redis_url)
        steps, plain, session_path = asyncio.run(_measure(settings, args.jobs, args.gap_ms / 1000))
    totals = [sum(values) for values in zip(*(steps[name] for name in STEPS), strict=True)]
    total_p50 = percentile(totals, 50)
    medians = sum(percentile(steps[name], 50) for name in STEPS)
    result: dict[str, Any] = {"benchmark": "pickup_steps", "jobs": args.jobs}
    print(f"{'step':12} {'p50 ms':>8} {'p99 ms':>8} {'share of the medians':>6}")
    for name in STEPS:
        p50, p99 = percentile(steps[name], 50), percentile(steps[name], 99)
        result[f"{name}_p50_ms"], result[f"{name}_p99_ms"] = round(p50, 3), round(p99, 3)
        print(f"{name:12} {p50:8.3f} {p99:8.3f} {p50 / medians:6.0%}")
    result["total_p50_ms"], result["total_p99_ms"] = round(total_p50, 3), round(percentile(totals, 99), 3)
    result["plain_insert_p50_ms"] = round(percentile(plain, 50), 3)
    result["plain_insert_p99_ms"] = round(percentile(plain, 99), 3)
    result["session_insert_p50_ms"] = round(percentile(session_path, 50), 3)
    result["session_insert_p99_ms"] = round(percentile(session_path, 99), 3)
    print(f"{'total':12} {total_p50:8.3f} {result['total_p99_ms']:8.3f}")
    print(f"{'plain INSERT':12} {result['plain_insert_p50_ms']:8.3f} {result['plain_insert_p99_ms']:8.3f}  (reference)")
    print(f"{'via session':12} {result['session_insert_p50_ms']:8.3f} {result['session_insert_p99_ms']:8.3f}"
          "  (reference: the ledger INSERT the old way, to_thread + SQLAlchemy session)")
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
