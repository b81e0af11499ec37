"""Redis time of the kernel's depth sample and claim, flat in the backlog; several claiming processes.

Starts a throw-away ``redis-server`` on a free port (so ``INFO commandstats`` holds only this
benchmark's commands), fills one queue with N jobs and, at each size, measures Redis-side time
(``usec`` deltas of ``INFO commandstats``, i.e. time Redis' single thread spent executing):

- one depth sample of all 18 catalogued queues (the controller's sampler and the admin API),
- one 1-slot claim (reserve + lease scripts) and one finish, while other workers run 400 jobs
  (N/4 at small N).

Only the queue's sorted set grows with N; job payloads exist for the jobs the benchmark claims.
Then ``--processes`` (default 1,2,4) worker-like processes drain ``--drain`` no-op jobs with
``--slots`` slots each (claim free slots, finish at once) and the wall time is reported.
Targets: depth sample < 1 ms and 1-slot claim <= 0.1 ms at 100,000 queued, flat up to 1,000,000;
4 processes drain faster than 2.
Usage: python -m bench.kernel [--sizes 1000,100000,1000000] [--processes 1,2,4] [--slots 1] [--drain 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import redis as redis_sync
from redis.asyncio import Redis

from core.queues.catalog import QUEUES
from core.queues.claim import JobClaimer, RedisFinish
from core.queues.depth import queue_depths
from core.queues.enqueue import serialize_job
from core.queues.keys import job_key, queue_key

QUEUE = "periodic_run"
DEPTH_TARGET_MS = 1.0
CLAIM_TARGET_MS = 0.1
OTHERS_RUNNING = 400  # e.g. 4 worker processes x 100 slots
SAMPLES = 200
CLAIMS = 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def scratch_redis() -> Iterator[str]:
    """A private redis-server (no persistence) for the duration of the benchmark."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", folder], stdout=subprocess.DEVNULL)
        try:
            client = redis_sync.Redis(port=port)
            for _ in range(100):
                with contextlib.suppress(redis_sync.ConnectionError):
                    if client.ping():
                        break
                time.sleep(0.05)
            client.close()
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(10)


def _usec(stats: dict[str, Any], commands: set[str] | None) -> int:
    total = 0
    for name, row in stats.items():
        command = name.removeprefix("cmdstat_")
        if command in ("info", "config|resetstat", "config"):
            continue
        if commands is None or command in commands:
            total += int(row["usec"])
    return total


async def redis_ms(redis: Redis, work: Any, repeat: int, commands: set[str] | None = None) -> float:
    """Redis-side milliseconds per call of ``work`` (commands run inside scripts are not counted
    twice: pass ``commands={'evalsha'}`` for script calls)."""
    await redis.config_resetstat()
    for _ in range(repeat):
        await work()
    return _usec(await redis.info("commandstats"), commands) / 1000 / repeat


async def _fill(redis: Redis, size: int, payloads: int) -> None:
    await redis.flushdb()
    base = int(time.time() * 1000) - 3_600_000
    payload = serialize_job("noop", {}, base)
    for start in range(0, size, 10_000):
        await redis.zadd(queue_key(QUEUE), {f"j{i}": base + i for i in range(start, min(size, start + 10_000))})
    async with redis.pipeline(transaction=False) as pipe:
        for i in range(min(size, payloads)):
            pipe.set(job_key(f"j{i}"), payload)
        await pipe.execute()


async def measure_size(url: str, size: int) -> dict[str, Any]:
    redis = Redis.from_url(url)
    try:
        running = min(OTHERS_RUNNING, size // 4)
        claims = min(CLAIMS, size // 2)
        await _fill(redis, size, running + claims)
        others = JobClaimer(redis, [QUEUE], "others", lease_ms=600_000)
        await others.claim(running)
        depth_ms = await redis_ms(redis, lambda: queue_depths(redis), SAMPLES)
        claimer = JobClaimer(redis, [QUEUE], "bench", lease_ms=600_000)
        claimed: list[str] = []

        async def claim_one() -> None:
            jobs, _ = await claimer.claim(1)
            claimed.extend(j.job_id for j in jobs)

        claim_ms = await redis_ms(redis, claim_one, claims, {"evalsha"})
        pending = iter(claimed)

        async def finish_one() -> None:
            await claimer.finish([RedisFinish(queue_key(QUEUE), next(pending), terminal=True, result=b"r",
                                              keep_result_ms=60_000)])

        finish_ms = await redis_ms(redis, finish_one, len(claimed), {"evalsha"})
        depth = next(d for d in await queue_depths(redis) if d.queue == QUEUE)
        if len(claimed) != claims:
            raise RuntimeError("every 1-slot claim must find a job")
        if (depth.running, depth.ready) != (running, size - running - claims):
            raise RuntimeError(f"depth disagrees with what the benchmark did: {depth}")
        return {"queued": size, "depth_sample_ms": round(depth_ms, 4),
                "depth_per_queue_ms": round(depth_ms / len(QUEUES), 5),
                "claim_1_slot_ms": round(claim_ms, 4), "finish_ms": round(finish_ms, 4)}
    finally:
        await redis.aclose()


def _drain_process(url: str, slots: int, name: str, start_at: float, out: Any) -> None:
    async def drain() -> tuple[int, int]:
        redis = Redis.from_url(url)
        claimer = JobClaimer(redis, [QUEUE], name, lease_ms=60_000)
        done = claims = 0
        while time.monotonic() < start_at:
            await asyncio.sleep(0.001)
        try:
            while True:
                jobs, _ = await claimer.claim(slots)
                claims += 1
                if not jobs:
                    return done, claims
                await claimer.finish([RedisFinish(queue_key(QUEUE), j.job_id, terminal=True) for j in jobs])
                done += len(jobs)
        finally:
            await redis.aclose()

    done, claims = asyncio.run(drain())
    out.put((name, done, claims, time.monotonic()))


async def _fill_drain(url: str, jobs: int) -> None:
    redis = Redis.from_url(url)
    try:
        await _fill(redis, jobs, jobs)
        await redis.config_resetstat()
    finally:
        await redis.aclose()


def measure_processes(url: str, processes: int, slots: int, jobs: int) -> dict[str, Any]:
    asyncio.run(_fill_drain(url, jobs))
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    start_at = time.monotonic() + 0.5  # CLOCK_MONOTONIC is one clock for every process of the host
    procs = [ctx.Process(target=_drain_process, args=(url, slots, f"p{i}", start_at, out)) for i in range(processes)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(30)
    client = redis_sync.Redis.from_url(url)
    stats: dict[str, Any] = client.info("commandstats")  # type: ignore[assignment]
    usec = _usec(stats, {"evalsha"})
    client.close()
    done = sum(r[1] for r in results)
    claims = sum(r[2] for r in results)
    elapsed = max(r[3] for r in results) - start_at
    if done != jobs:
        raise RuntimeError(f"{done} of {jobs} drained")
    return {"processes": processes, "slots": slots, "jobs": jobs, "seconds": round(elapsed, 3),
            "jobs_per_s": round(jobs / elapsed), "redis_ms_per_script_call": round(usec / 1000 / claims / 2, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--slots", type=int, default=1)
    parser.add_argument("--drain", type=int, default=20_000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with scratch_redis() as url:
        rows = [asyncio.run(measure_size(url, size)) for size in sizes]
        for row in rows:
            print(f"{row['queued']:>9,} queued: depth sample {row['depth_sample_ms']:.3f} ms "
                  f"({row['depth_per_queue_ms']:.4f} ms/queue), 1-slot claim {row['claim_1_slot_ms']:.4f} ms, "
                  f"finish {row['finish_ms']:.4f} ms of Redis time")
        drains = [measure_processes(url, int(p), args.slots, args.drain) for p in args.processes.split(",")]
        for d in drains:
            print(f"{d['processes']} process(es) x {d['slots']} slot(s): {d['jobs']:,} jobs in {d['seconds']:.2f} s "
                  f"= {d['jobs_per_s']:,} jobs/s, {d['redis_ms_per_script_call']:.4f} ms of Redis per script call")
    at_100k = next((r for r in rows if r["queued"] == 100_000), rows[-1])
    by_p = {d["processes"]: d["jobs_per_s"] for d in drains}
    result = {
        "bench": "kernel",
        "sizes": rows,
        "drain": drains,
        "depth_target_met": all(r["depth_sample_ms"] < DEPTH_TARGET_MS for r in rows),
        "claim_target_met": at_100k["claim_1_slot_ms"] <= CLAIM_TARGET_MS,
        "flat": rows[-1]["claim_1_slot_ms"] <= 2 * rows[0]["claim_1_slot_ms"] + 0.01
        and rows[-1]["depth_sample_ms"] <= 2 * rows[0]["depth_sample_ms"] + 0.05,
        "four_faster_than_two": (by_p[4] > by_p[2]) if 2 in by_p and 4 in by_p else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
