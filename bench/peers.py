"""IntegraMon's worker next to arq, SAQ and Dramatiq, same workload, same harness (issue 16's table).

Workload: 5,000 no-op jobs, each one Redis INCR, drained by ONE worker process of each system; every
system runs against one private ``redis-server`` started on a free port (flushed between runs), ours
with its ledger on PostgreSQL. Per run: time from process spawn to the counter reaching the total
(spawn->done), the steady rate (jobs between 10 % and 90 % of the total / their time), the time from
spawn to the first job, then in a fresh process: idle RSS (process tree, after 1 s idle) and pickup
latency of jobs enqueued one at a time (start of the job - start of the enqueue call; ours also
after the call returned; our enqueue commits the ledger row before the job is visible), followed at
the same cadence by a durable one-column INSERT and a Redis PING: what a commit and a round trip cost
right then, next to each variant's figures (the machine's speed drifts during a run).
Repetitions are interleaved (every variant once, then again); the table shows medians.
Usage: python -m bench.peers [--jobs N] [--repeat R] [--latency-jobs L] [--only NAME,...]
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import psutil
import psycopg
import redis

from bench.common import bench_settings, child_env, integramon_cmd, median, percentile, private_redis_server
from bench.peer_jobs import COUNTER, STARTS
from core.settings import Settings


@dataclass
class Variant:
    """One system under test: how to start its worker and how to enqueue its job."""

    name: str
    command: list[str]
    env: dict[str, str]
    bulk: Callable[[int], Awaitable[None]]
    one: Callable[[], Awaitable[str]]  # enqueue one latency job, return its token
    close: Callable[[], Awaitable[None]] = field(default=lambda: _nothing())


async def _nothing() -> None:
    return None


def ours(settings: Settings, slots: int) -> Callable[[], Awaitable[Variant]]:
    async def make() -> Variant:
        from core.queues.catalog import NOOP
        from core.queues.enqueue import EnqueueRequest
        from core.resources import open_resources

        ctx = open_resources(settings)
        res = await ctx.__aenter__()
        spec = NOOP

        async def bulk(n: int) -> None:
            for start in range(0, n, 1000):
                await res.enqueuer.enqueue_many([EnqueueRequest(spec, {"incr": COUNTER})
                                                 for _ in range(min(1000, n - start))])

        async def one() -> str:
            return str(await res.enqueuer.enqueue(spec, {"incr": COUNTER, "stamp": STARTS}))

        async def close() -> None:
            await ctx.__aexit__(None, None, None)

        return Variant(f"ours, {slots} slot{'s' if slots > 1 else ''}",
                       integramon_cmd("worker", "--queue", "periodic_run", "--concurrency", str(slots)),
                       child_env(settings), bulk, one, close)
    return make


def arq_variant(url: str) -> Callable[[], Awaitable[Variant]]:
    async def make() -> Variant:
        from arq import create_pool
        from arq.connections import RedisSettings

        pool = await create_pool(RedisSettings.from_dsn(url), default_queue_name="arq:queue:peers")

        async def bulk(n: int) -> None:
            for start in range(0, n, 500):
                await asyncio.gather(*(pool.enqueue_job("arq_incr") for _ in range(min(500, n - start))))

        async def one() -> str:
            token = os.urandom(8).hex()
            await pool.enqueue_job("arq_incr", token=token)
            return token

        return Variant("arq (poll 0.05 s, 100 jobs)",
                       [sys.executable, "-m", "arq", "bench.peer_jobs.ArqSettings"],
                       {**os.environ, "BENCH_PEER_REDIS": url, "BENCH_PEER": "arq"}, bulk, one, pool.aclose)
    return make


def saq_variant(url: str) -> Callable[[], Awaitable[Variant]]:
    async def make() -> Variant:
        from saq import Queue

        queue = Queue.from_url(url, name="peers")
        await queue.connect()

        async def bulk(n: int) -> None:
            for start in range(0, n, 500):
                await asyncio.gather(*(queue.enqueue("incr") for _ in range(min(500, n - start))))

        async def one() -> str:
            token = os.urandom(8).hex()
            await queue.enqueue("incr", token=token)
            return token

        return Variant("SAQ 10", [str(Path(sys.executable).parent / "saq"), "bench.peer_jobs.SAQ_SETTINGS"],
                       {**os.environ, "BENCH_PEER_REDIS": url, "BENCH_PEER": "saq"}, bulk, one, queue.disconnect)
    return make


def dramatiq_variant(url: str) -> Callable[[], Awaitable[Variant]]:
    async def make() -> Variant:
        import dramatiq
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url)  # type: ignore[no-untyped-call]

        def message(token: str | None) -> dramatiq.Message[Any]:
            return dramatiq.Message(queue_name="peers", actor_name="dramatiq_incr", args=(),
                                    kwargs={"token": token} if token else {}, options={})

        async def bulk(n: int) -> None:
            for _ in range(n):
                broker.enqueue(message(None))

        async def one() -> str:
            token = os.urandom(8).hex()
            broker.enqueue(message(token))
            return token

        async def close() -> None:
            broker.close()

        return Variant("Dramatiq 1 x 8 threads",
                       [sys.executable, "-m", "dramatiq", "bench.peer_jobs", "--processes", "1", "--threads", "8"],
                       {**os.environ, "BENCH_PEER_REDIS": url, "BENCH_PEER": "dramatiq"}, bulk, one, close)
    return make


def _rss_mib(pid: int) -> float:
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _spawn(variant: Variant) -> subprocess.Popen[bytes]:
    return subprocess.Popen(variant.command, env=variant.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def throughput(variant: Variant, client: redis.Redis, jobs: int) -> dict[str, float]:
    await variant.bulk(jobs)
    samples: list[tuple[float, int]] = []
    began = time.perf_counter()
    proc = _spawn(variant)
    try:
        first: float | None = None
        deadline = began + 300
        while True:
            count = int(cast("bytes | None", client.get(COUNTER)) or 0)
            now = time.perf_counter()
            samples.append((now, count))
            if first is None and count > 0:
                first = now - began
            if count >= jobs:
                break
            if now > deadline or proc.poll() is not None:
                raise SystemExit(f"{variant.name}: {count} of {jobs} jobs done, worker exit {proc.poll()}")
            await asyncio.sleep(0.002)
        done = samples[-1][0] - began
    finally:
        _stop(proc)
    t10 = next(t for t, c in samples if c >= jobs * 0.1)
    t90 = next(t for t, c in samples if c >= jobs * 0.9)
    c10 = next(c for t, c in samples if t == t10)
    c90 = next(c for t, c in samples if t == t90)
    return {"spawn_done_jobs_per_s": jobs / done, "steady_jobs_per_s": (c90 - c10) / max(t90 - t10, 1e-6),
            "first_job_s": first or 0.0}


async def idle_and_latency(variant: Variant, client: redis.Redis, count: int, gap_s: float,
                           dsn: str) -> dict[str, Any]:
    proc = _spawn(variant)
    try:
        warm = await variant.one()
        deadline = time.time() + 60
        while not client.hexists(STARTS, warm):
            if time.time() > deadline or proc.poll() is not None:
                raise SystemExit(f"{variant.name}: worker did not start")
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.0)
        rss = _rss_mib(proc.pid)
        sent: dict[str, tuple[float, float]] = {}
        for _ in range(count):
            before = time.time()
            token = await variant.one()
            sent[token] = (before, time.time())
            await asyncio.sleep(gap_s)
        deadline = time.time() + 30
        while cast(int, client.hlen(STARTS)) < count + 1 and time.time() < deadline:
            await asyncio.sleep(0.02)
        starts = {k.decode(): float(v) for k, v in cast("dict[bytes, bytes]", client.hgetall(STARTS)).items()}
    finally:
        _stop(proc)
    missing = [t for t in sent if t not in starts]
    if missing:
        raise SystemExit(f"{variant.name}: {len(missing)} latency jobs never started")
    plain, ping = await _references(client, dsn, count // 2, gap_s)
    return {"idle_rss_mib": rss, "from_call_ms": [(starts[t] - b) * 1000 for t, (b, _a) in sent.items()],
            "after_return_ms": [(starts[t] - a) * 1000 for t, (_b, a) in sent.items()],
            "plain_insert_ms": plain, "redis_ping_ms": ping}


async def _references(client: redis.Redis, dsn: str, count: int, gap_s: float) -> tuple[list[float], list[float]]:
    """Right after a variant's pickup samples, at the same cadence: a durable one-column INSERT and a
    Redis PING, each ``gap_s`` after the previous step (the machine's speed drifts during a run; these
    say what a commit and a round trip cost next to each variant's figures)."""
    plain: list[float] = []
    ping: list[float] = []
    reference = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    try:
        await reference.execute("CREATE TABLE IF NOT EXISTS bench_plain_insert (id bigserial PRIMARY KEY, v text)")
        for _ in range(count):
            await asyncio.sleep(gap_s)
            before = time.perf_counter()
            await reference.execute("INSERT INTO bench_plain_insert (v) VALUES ('x')")
            plain.append((time.perf_counter() - before) * 1000)
            await asyncio.sleep(gap_s)
            before = time.perf_counter()
            client.ping()
            ping.append((time.perf_counter() - before) * 1000)
    finally:
        await reference.close()
    return plain, ping


async def run_once(factory: Callable[[], Awaitable[Variant]], client: redis.Redis, settings: Settings,
                   args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    client.flushall()
    _empty_ledger(settings)
    variant = await factory()
    try:
        result: dict[str, Any] = await throughput(variant, client, args.jobs)
        client.flushall()
        result.update(await idle_and_latency(variant, client, args.latency_jobs, args.gap_ms / 1000,
                                             _libpq_dsn(settings)))
    finally:
        await variant.close()
    return variant.name, result


def _libpq_dsn(settings: Settings) -> str:
    from core.db.session import psycopg_dsn

    return psycopg_dsn(settings.resolved_database_url)


def _empty_ledger(settings: Settings) -> None:
    from sqlalchemy import text

    from core.db.session import create_db_engine

    engine = create_db_engine(settings.resolved_database_url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE worker_job_attempt, worker_job_run, outbox_event CASCADE"))
    engine.dispose()


def summarise(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for name, results in runs.items():
        row = {key: median([r[key] for r in results])
               for key in ("spawn_done_jobs_per_s", "steady_jobs_per_s", "first_job_s", "idle_rss_mib")}
        from_call = [v for r in results for v in r["from_call_ms"]]
        after = [v for r in results for v in r["after_return_ms"]]
        plain = [v for r in results for v in r["plain_insert_ms"]]
        ping = [v for r in results for v in r["redis_ping_ms"]]
        row.update({"pickup_p50_ms": percentile(from_call, 50), "pickup_p99_ms": percentile(from_call, 99),
                    "after_return_p50_ms": percentile(after, 50), "after_return_p99_ms": percentile(after, 99),
                    "plain_insert_p50_ms": percentile(plain, 50), "redis_ping_p50_ms": percentile(ping, 50)})
        table[name] = row
    return table


def ratios(table: dict[str, dict[str, float]]) -> dict[str, Any]:
    peers = {n: r for n, r in table.items() if not n.startswith("ours")}
    ours_rows = {n: r for n, r in table.items() if n.startswith("ours")}
    out: dict[str, Any] = {}
    if peers:
        best = max(r["spawn_done_jobs_per_s"] for r in peers.values())
        for name, row in ours_rows.items():
            out[f"{name}: spawn_done / best peer"] = round(row["spawn_done_jobs_per_s"] / best, 2)
    return out


def targets(table: dict[str, dict[str, float]], ratio: dict[str, Any]) -> dict[str, bool]:
    def get(name: str, key: str) -> float | None:
        return table[name][key] if name in table else None

    checks = {
        "1-slot steady >= 500": (get("ours, 1 slot", "steady_jobs_per_s") or 0) >= 500,
        "10-slot steady >= 2000": (get("ours, 10 slots", "steady_jobs_per_s") or 0) >= 2000,
        "100-slot steady >= 4500": (get("ours, 100 slots", "steady_jobs_per_s") or 0) >= 4500,
        "first job <= 0.35 s": all(r["first_job_s"] <= 0.35 for n, r in table.items() if n.startswith("ours")),
        "idle RSS <= 50 MiB": all(r["idle_rss_mib"] <= 50 for n, r in table.items() if n.startswith("ours")),
        "pickup p50 <= 1.5 ms": all(r["pickup_p50_ms"] <= 1.5 for n, r in table.items() if n.startswith("ours")),
        "pickup p99 <= 5 ms": all(r["pickup_p99_ms"] <= 5 for n, r in table.items() if n.startswith("ours")),
    }
    if ratio:
        checks["spawn_done >= 1.5 x best peer (100 slots)"] = ratio.get("ours, 100 slots: spawn_done / best peer",
                                                                        0) >= 1.5
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-jobs", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=10)
    parser.add_argument("--only", default="", help="variant keys: ours100,ours10,ours1,dramatiq,saq,arq")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, private_redis_server(Path(tmp)) as url:
        settings = bench_settings("peers" + os.environ.get("BENCH_DB_SUFFIX", ""), 0, Path(tmp), redis_url=url)
        factories = {
            "ours100": ours(settings, 100), "ours10": ours(settings, 10), "ours1": ours(settings, 1),
            "dramatiq": dramatiq_variant(url), "saq": saq_variant(url), "arq": arq_variant(url),
        }
        chosen = [k for k in factories if not args.only or k in args.only.split(",")]
        client = redis.Redis.from_url(url)
        runs: dict[str, list[dict[str, Any]]] = {}
        for _ in range(args.repeat):
            for key in chosen:
                name, result = asyncio.run(run_once(factories[key], client, settings, args))
                runs.setdefault(name, []).append(result)
                print(f"  {name}: {result['spawn_done_jobs_per_s']:.0f} spawn->done, "
                      f"{result['steady_jobs_per_s']:.0f} steady, first {result['first_job_s']:.2f} s",
                      file=sys.stderr)
    table = summarise(runs)
    ratio = ratios(table)
    met = targets(table, ratio)
    print(f"{'variant':28} {'spawn->done/s':>13} {'steady/s':>9} {'first job':>9} {'idle RSS':>9} "
          f"{'pickup p50/p99 ms':>18} {'after return p50/p99':>21} {'INSERT / PING p50':>18}")
    for name, row in table.items():
        print(f"{name:28} {row['spawn_done_jobs_per_s']:>13.0f} {row['steady_jobs_per_s']:>9.0f} "
              f"{row['first_job_s']:>8.2f}s {row['idle_rss_mib']:>5.0f} MiB "
              f"{row['pickup_p50_ms']:>8.2f} / {row['pickup_p99_ms']:<7.2f} "
              f"{row['after_return_p50_ms']:>10.2f} / {row['after_return_p99_ms']:<7.2f} "
              f"{row['plain_insert_p50_ms']:>8.2f} / {row['redis_ping_p50_ms']:<7.2f}")
    for name, ok in met.items():
        print(f"target {name}: {'met' if ok else 'NOT met'}")
    load_after = os.getloadavg()
    print(json.dumps({"benchmark": "peers", "jobs": args.jobs, "repeat": args.repeat,
                      "load_average_before": [round(x, 2) for x in load_before],
                      "load_average_after": [round(x, 2) for x in load_after],
                      "table": {n: {k: round(v, 2) for k, v in r.items()} for n, r in table.items()},
                      "ratios": ratio, "targets": met, "all_targets_met": all(met.values())}))


if __name__ == "__main__":
    main()
