"""Where pickup latency goes on the hand-off path, segment by segment, next to what a commit and a
Redis round trip cost at the same moment.

The set-up of ``bench.latency`` (a private ``redis-server``, the ledger on PostgreSQL, one idle worker
process with ``--slots`` slots, 10 unless told, single enqueues ``--gap-ms`` apart, a plain one-column
INSERT and a Redis PING timed between them at the same cadence), with stamps inside the enqueue call
and inside the worker (``bench.traced_worker``: when the hand-off message was read). Segments, each from the end of the
previous one (ms):

  prep     enqueue call start -> the ledger INSERT issued (our Python: checks, row values, parameters)
  insert   -> the INSERT returned, committed (the reference: ``plain INSERT``)
  between  -> the enqueue script issued (the script's keys and arguments built)
  script   -> the script returned: the job is written, claimed for the idle worker and published to
              it (the reference: ``PING``)
  return   -> the enqueue call returned
  wake     -> the worker read the hand-off message (its process woke up; its subscription's read callback)
  start    -> the job function began (the worker's task for the job, its attempt record, the call)

``own_p50_ms`` sums what is ours above the references: prep + between + return + wake + start, plus
insert - plain INSERT and script - PING (medians). On a virtual machine whose idle vCPUs halt, code
that runs right after an idle spell runs several times slower than the same code in a busy loop, so
every segment grows with ``--gap-ms``; compare segments within one run. The last line before the
JSON shows it on pure Python: one enqueue's row building timed in a busy loop and after each gap.
Also printed: the three slowest pickups segment by segment next to the references' worst, and how
many garbage collections started inside the timed enqueue calls (a ``gc.callbacks`` probe).
Usage: python -m bench.pickup_trace [--jobs N] [--gap-ms G] [--slots S]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import psycopg
import redis

from bench.common import bench_settings, child_env, percentile, private_redis_server
from bench.traced_worker import HANDED_AT
from core.queues.catalog import NOOP
from core.queues.enqueue import EnqueueRequest, _job_values, _pg_params_one
from core.queues.keys import WORKERS_INDEX
from core.resources import open_resources
from core.settings import Settings

STARTS = "bench:pickup_trace:starts"
CALLER = ("prep", "insert", "between", "script", "return")
SEGMENTS = (*CALLER, "wake", "start")

Marks = dict[str, dict[str, float]]  # job id -> segment name -> time.time() at its end (and "call")


async def _measure(settings: Settings, jobs: int, gap_s: float) -> tuple[Marks, dict[str, list[float]]]:
    """Per job: the caller's stamps (time.time()) by segment end; and the two references' samples (ms)."""
    marks: Marks = {}
    references: dict[str, list[float]] = {"plain_insert": [], "ping": []}
    collections = [0]  # garbage collections that started during this process's enqueue calls
    in_call = [False]

    def count_collection(phase: str, _info: dict[str, int]) -> None:
        if phase == "start" and in_call[0]:
            collections[0] += 1
    async with open_resources(settings) as res:
        enqueuer = res.enqueuer
        ledger = enqueuer._pg
        if ledger is None:
            raise SystemExit("pickup_trace needs the ledger on PostgreSQL")
        now: dict[str, float] = {}
        affected, run_script = ledger.affected, enqueuer._script

        async def timed_affected(statement: str, params: dict[str, Any] | Sequence[Any], *,
                                 conflict_writes_nothing: bool = False,
                                 meanwhile: Callable[[], None] | None = None) -> int:
            now["prep"] = time.time()
            try:
                return await affected(statement, params, conflict_writes_nothing=conflict_writes_nothing,
                                      meanwhile=meanwhile)
            finally:
                now["insert"] = time.time()

        async def timed_script(*, keys: list[str], args: list[Any]) -> Any:
            now["between"] = time.time()
            try:
                return await run_script(keys=keys, args=args)
            finally:
                now["script"] = time.time()

        ledger.affected = timed_affected  # type: ignore[method-assign]
        enqueuer._script = timed_script
        dsn = "postgresql://" + res.engine.url.render_as_string(hide_password=False).split("://", 1)[1]
        reference = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        await reference.execute("CREATE TABLE IF NOT EXISTS bench_plain_insert (id bigserial PRIMARY KEY, v text)")
        gc.callbacks.append(count_collection)
        try:
            for _ in range(jobs):
                now.clear()
                in_call[0] = True
                now["call"] = time.time()
                job_id = await enqueuer.enqueue(NOOP, {"stamp": STARTS})
                now["return"] = time.time()
                in_call[0] = False
                marks[str(job_id)] = dict(now)
                await asyncio.sleep(gap_s / 3)
                before = time.perf_counter()
                await reference.execute("INSERT INTO bench_plain_insert (v) VALUES ('x')")
                references["plain_insert"].append((time.perf_counter() - before) * 1000)
                await asyncio.sleep(gap_s / 3)
                before = time.perf_counter()
                await res.redis.ping()
                references["ping"].append((time.perf_counter() - before) * 1000)
                await asyncio.sleep(gap_s / 3)
        finally:
            gc.callbacks.remove(count_collection)
            await reference.close()
    references["collections_in_calls"] = [float(collections[0])]
    return marks, references


def _segments(marks: Marks, handed: dict[str, float],
              starts: dict[str, float]) -> dict[str, list[float]]:
    """Each job's segment lengths (ms); jobs the worker did not get by hand-off are left out."""
    out: dict[str, list[float]] = {name: [] for name in SEGMENTS}
    for job_id, mark in marks.items():
        if job_id not in handed or job_id not in starts or len(mark) != len(CALLER) + 1:
            continue
        ends = {**mark, "wake": handed[job_id], "start": starts[job_id]}
        previous = mark["call"]
        for name in SEGMENTS:
            out[name].append((ends[name] - previous) * 1000)
            previous = ends[name]
    return out


def _cold_and_warm(gap_s: float, rounds: int = 200) -> tuple[float, float]:
    """Microseconds (p50) one single enqueue's row building takes (the ledger row's values and the
    INSERT's parameters: pure Python, no I/O) in a busy loop, and right after sleeping ``gap_s``."""
    request = EnqueueRequest(NOOP, {"stamp": STARTS})

    def build() -> float:
        before = time.perf_counter()
        _pg_params_one(_job_values(request, os.urandom(16).hex(), None), datetime.now(UTC))
        return (time.perf_counter() - before) * 1e6

    warm = [build() for _ in range(rounds)]
    cold = []
    for _ in range(rounds // 4):
        time.sleep(gap_s)
        cold.append(build())
    return percentile(warm, 50), percentile(cold, 50)


def _stamps(client: redis.Redis, key: str) -> dict[str, float]:
    """A hash of job id -> time.time() as written by the worker's probe or the job."""
    raw = cast(dict[bytes, bytes], client.hgetall(key))
    return {k.decode(): float(v) for k, v in raw.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=20)
    parser.add_argument("--slots", type=int, default=10, help="the worker's concurrency")
    args = parser.parse_args()
    if args.jobs < 1 or args.gap_ms <= 0 or args.slots < 1:
        raise SystemExit("--jobs and --slots must be at least 1 and --gap-ms above 0")
    with tempfile.TemporaryDirectory() as tmp, private_redis_server(Path(tmp)) as redis_url:
        settings = bench_settings("pickup_trace", 0, Path(tmp), redis_url=redis_url)
        client = redis.Redis.from_url(settings.redis_url)
        worker = subprocess.Popen([sys.executable, "-m", "bench.traced_worker", "worker", "--group", "periodic",
                                   "--concurrency", str(args.slots)], env=child_env(settings))
        try:
            while not client.smembers(WORKERS_INDEX):
                if worker.poll() is not None:
                    raise SystemExit("the worker exited before it registered")
                time.sleep(0.05)
            time.sleep(1.0)  # idle
            marks, references = asyncio.run(_measure(settings, args.jobs, args.gap_ms / 1000))
            deadline = time.time() + 30
            while cast(int, client.hlen(STARTS)) < len(marks) and time.time() < deadline:
                time.sleep(0.05)
        finally:
            worker.terminate()
            worker.wait(30)
        handed, starts = _stamps(client, HANDED_AT), _stamps(client, STARTS)
        client.close()
    segments = _segments(marks, handed, starts)
    counted = len(segments["start"])
    if counted == 0:
        raise SystemExit("no job reached the worker by hand-off")
    result: dict[str, Any] = {"benchmark": "pickup_trace", "jobs": args.jobs, "gap_ms": args.gap_ms,
                              "slots": args.slots, "handed_jobs": counted}
    print(f"{'segment':14} {'p50 ms':>8} {'p99 ms':>8}")
    for name in SEGMENTS:
        p50, p99 = percentile(segments[name], 50), percentile(segments[name], 99)
        result[f"{name}_p50_ms"], result[f"{name}_p99_ms"] = round(p50, 3), round(p99, 3)
        print(f"{name:14} {p50:8.3f} {p99:8.3f}")
    totals = [sum(parts) for parts in zip(*(segments[name] for name in SEGMENTS), strict=True)]
    result["total_p50_ms"] = round(percentile(totals, 50), 3)
    result["gc_in_enqueue_calls"] = int(references.pop("collections_in_calls")[0])
    for name, values in references.items():
        result[f"{name}_p50_ms"] = round(percentile(values, 50), 3)
        result[f"{name}_max_ms"] = round(max(values), 3)
    own = (sum(result[f"{name}_p50_ms"] for name in ("prep", "between", "return", "wake", "start"))
           + result["insert_p50_ms"] - result["plain_insert_p50_ms"] + result["script_p50_ms"] - result["ping_p50_ms"])
    result["own_p50_ms"] = round(own, 3)
    print(f"{'total':14} {result['total_p50_ms']:8.3f}   ({counted} of {args.jobs} jobs handed off)")
    print(f"{'plain INSERT':14} {result['plain_insert_p50_ms']:8.3f}   (reference, same cadence)")
    print(f"{'PING':14} {result['ping_p50_ms']:8.3f}   (reference, same cadence)")
    print(f"{'ours above':14} {result['own_p50_ms']:8.3f}   (prep + between + return + wake + start "
          "+ insert - INSERT + script - PING)")
    print(f"slowest pickups (ms; reference maxima: INSERT {result['plain_insert_max_ms']}, "
          f"PING {result['ping_max_ms']}; collections during the enqueue calls: {result['gc_in_enqueue_calls']}):")
    for i in sorted(range(counted), key=lambda i: -totals[i])[:3]:
        print("  " + "  ".join(f"{name} {segments[name][i]:.2f}" for name in SEGMENTS) + f"  total {totals[i]:.2f}")
    warm, cold = _cold_and_warm(args.gap_ms / 1000)
    result["row_build_warm_us"], result["row_build_after_gap_us"] = round(warm, 1), round(cold, 1)
    print(f"building one enqueue's row and parameters (pure Python): {warm:.1f} us in a busy loop, "
          f"{cold:.1f} us right after {args.gap_ms:g} ms asleep")
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
