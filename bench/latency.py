"""Pickup latency: with an idle worker running, enqueue 200 jobs one at a time, 20 ms apart; each job
records its start time. Latency = job start - the moment the enqueue call began (it includes the
ledger insert, committed before the job is visible in Redis); ``after_return`` measures from when the
enqueue call returned. Runs against a private redis-server (free port), so nobody else's load or
FLUSHDB mixes in. Halfway between two enqueues a plain autocommit INSERT (one text column) is timed
as the same-run reference for what a durable commit costs on this machine right now, and a Redis
PING for one Redis round trip at the same cadence. Pickup from the call needs a commit plus one Redis
round trip (the enqueue script, which hands the job to the idle worker: its message reaches the
worker about when the reply reaches the caller): printed as ``floor_p50_ms``, the sum of those
medians. The references go through psycopg's ``execute`` and redis-py's client, which cost more per
call on an idle machine than the enqueuer's own paths (core.queues.pg_prepared, core.queues.raw_redis),
so the "floor" is the machine's speed at that moment in familiar terms, not a bound ours cannot pass.
``--sweep-ms`` repeats the measurement at other gaps with the same worker (``by_gap_ms`` in the JSON):
on a virtual machine whose idle vCPUs halt, every hop of the path costs more the longer the machine
sat idle before it, so the floor and the pickup move together with the gap; the main figures stay
those of ``--gap-ms``.
Usage: python -m bench.latency [--jobs N] [--gap-ms G] [--sweep-ms G1,G2,...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis

from bench.common import bench_settings, child_env, integramon_cmd, percentile, private_redis_server
from core.queues.catalog import NOOP
from core.queues.keys import WORKERS_INDEX
from core.resources import open_resources
from core.settings import Settings

STAMPS = "bench:latency:starts"


Samples = tuple[list[float], list[float], list[float], list[float]]  # from call, from return, INSERT, PING


async def _measure(settings: Settings, jobs: int, gap_s: float) -> Samples:
    sent: dict[str, tuple[float, float]] = {}
    plain: list[float] = []
    ping: list[float] = []
    async with open_resources(settings) as res:
        await res.redis.delete(STAMPS)
        spec = NOOP
        dsn = "postgresql://" + res.engine.url.render_as_string(hide_password=False).split("://", 1)[1]
        reference = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        await reference.execute("CREATE TABLE IF NOT EXISTS bench_plain_insert (id bigserial PRIMARY KEY, v text)")
        for _ in range(jobs):
            before = time.time()
            job_id = await res.enqueuer.enqueue(spec, {"stamp": STAMPS})
            sent[str(job_id)] = (before, time.time())
            await asyncio.sleep(gap_s / 3)
            before = time.perf_counter()
            await reference.execute("INSERT INTO bench_plain_insert (v) VALUES ('x')")
            plain.append((time.perf_counter() - before) * 1000)
            await asyncio.sleep(gap_s / 3)
            before = time.perf_counter()
            await res.redis.ping()
            ping.append((time.perf_counter() - before) * 1000)
            await asyncio.sleep(gap_s / 3)
        await reference.close()
        deadline = time.time() + 30
        while await res.redis.hlen(STAMPS) < jobs and time.time() < deadline:
            await asyncio.sleep(0.05)
        starts = {k.decode(): float(v) for k, v in (await res.redis.hgetall(STAMPS)).items()}
    if len(starts) != jobs:
        raise SystemExit(f"only {len(starts)} of {jobs} jobs started")
    from_call = [(starts[j] - sent[j][0]) * 1000 for j in sent]
    from_return = [(starts[j] - sent[j][1]) * 1000 for j in sent]
    return from_call, from_return, plain, ping


def _floor(plain: list[float], ping: list[float]) -> float:
    """The fastest pickup from the call these references allow: a durable INSERT and one round trip."""
    return round(percentile(plain, 50) + percentile(ping, 50), 2)


def _summary(samples: Samples) -> dict[str, float]:
    """The medians of one sweep step, and its floor."""
    from_call, from_return, plain, ping = samples
    row = {f"{name}_p50_ms": round(percentile(values, 50), 2)
           for name, values in (("enqueue_call", from_call), ("after_return", from_return),
                                ("plain_insert", plain), ("redis_ping", ping))}
    row["enqueue_call_p99_ms"] = round(percentile(from_call, 99), 2)
    row["floor_p50_ms"] = _floor(plain, ping)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=20)
    parser.add_argument("--sweep-ms", default="2,5,10", help="other gaps to measure (comma-separated ms, '' for none)")
    args = parser.parse_args()
    try:
        sweep = [float(g) for g in args.sweep_ms.split(",") if g.strip()]
    except ValueError:
        raise SystemExit(f"--sweep-ms: not a comma-separated list of numbers: {args.sweep_ms!r}") from None
    with tempfile.TemporaryDirectory() as tmp, private_redis_server(Path(tmp)) as redis_url:
        settings = bench_settings("latency", 0, Path(tmp), redis_url=redis_url)
        worker = subprocess.Popen(integramon_cmd("worker", "--group", "periodic", "--concurrency", "10"),
                                  env=child_env(settings))
        try:
            client = redis.Redis.from_url(settings.redis_url)
            while not client.smembers(WORKERS_INDEX):
                time.sleep(0.05)
            time.sleep(1.0)  # idle
            from_call, from_return, plain, ping = asyncio.run(_measure(settings, args.jobs, args.gap_ms / 1000))
            by_gap = {f"{gap:g}": _summary(asyncio.run(_measure(settings, args.jobs, gap / 1000))) for gap in sweep}
        finally:
            worker.terminate()
            worker.wait(30)
    result = {"benchmark": "latency", "jobs": args.jobs, "gap_ms": args.gap_ms}
    measured = (("enqueue_call", from_call), ("after_return", from_return), ("plain_insert", plain),
                ("redis_ping", ping))
    for name, values in measured:
        for pct in (50, 95, 99):
            result[f"{name}_p{pct}_ms"] = round(percentile(values, pct), 2)
    result["floor_p50_ms"] = _floor(plain, ping)
    result["by_gap_ms"] = by_gap
    result.update({"target_p50_ms": 1.5, "target_p99_ms": 5, "load_average": [round(x, 2) for x in os.getloadavg()]})
    result["targets_met"] = result["enqueue_call_p50_ms"] <= 1.5 and result["enqueue_call_p99_ms"] <= 5
    print(f"{'measured from':16} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, _values in measured:
        print(f"{name:16} {result[name + '_p50_ms']:>8} {result[name + '_p95_ms']:>8} {result[name + '_p99_ms']:>8}")
    print(f"floor from the call (durable INSERT + a Redis round trip, medians): {result['floor_p50_ms']} ms")
    for gap, row in by_gap.items():
        print(f"gap {gap:>4} ms: from the call p50 {row['enqueue_call_p50_ms']} ms, "
              f"after return {row['after_return_p50_ms']}, floor {row['floor_p50_ms']} "
              f"(INSERT {row['plain_insert_p50_ms']}, PING {row['redis_ping_p50_ms']})")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
