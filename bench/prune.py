"""Retention pruning 1,000,000 old ledger runs (and their 1,000,000 attempts) while jobs are enqueued.

Target: no enqueue waits more than 100 ms at a time while the controller's retention loop
(controller.retention, the same code and batch size it runs in production) deletes the old rows.
A second process enqueues one job after another through the real Enqueuer (ledger INSERT + Redis
push) for the whole run and records each call's latency; a baseline is taken before pruning starts.
Usage: python -m bench.prune [--rows N] [--redis-db D] [--batch ROWS]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import tempfile
import time
from datetime import timedelta
from multiprocessing.synchronize import Event
from pathlib import Path

from sqlalchemy import Engine, text

from bench.common import bench_settings, percentile
from controller.retention import Retention
from core.config_keys import config_key
from core.db.models.base import utcnow
from core.db.session import create_db_engine, make_session_factory
from core.queues.catalog import SLEEP
from core.resources import open_resources
from core.settings import Settings

TARGET_MS = 100.0


def _load(engine: Engine, rows: int) -> float:
    """Old finished runs with one attempt each (server-side generate_series), then fresh statistics."""
    started = time.perf_counter()
    old = utcnow() - timedelta(days=90)
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO worker_job_run (arq_job_id, queue, function, tenant_id, args_redacted, status, attempt,
                max_attempts, enqueued_at, started_at, finished_at, updated_at, worker_id)
            SELECT 'old-' || i, 'messagelog_read', 'read_message_logs', i % 500, '{}'::jsonb,
                   CASE i % 50 WHEN 0 THEN 'failed' ELSE 'succeeded' END, 1, 6,
                   CAST(:old AS timestamptz) + make_interval(secs => i * 0.5),
                   CAST(:old AS timestamptz) + make_interval(secs => i * 0.5),
                   CAST(:old AS timestamptz) + make_interval(secs => i * 0.5 + 1), now(), 'old-worker'
            FROM generate_series(1, CAST(:n AS integer)) AS i"""), {"n": rows, "old": old})
        conn.execute(text("""
            INSERT INTO worker_job_attempt (arq_job_id, attempt, worker_id, status, started_at, finished_at)
            SELECT 'old-' || i, 1, 'old-worker', 'succeeded',
                   CAST(:old AS timestamptz) + make_interval(secs => i * 0.5),
                   CAST(:old AS timestamptz) + make_interval(secs => i * 0.5 + 1)
            FROM generate_series(1, CAST(:n AS integer)) AS i"""), {"n": rows, "old": old})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE worker_job_run"))
        conn.execute(text("VACUUM ANALYZE worker_job_attempt"))
    return time.perf_counter() - started


def _enqueue_until_stopped(settings: Settings, stop: Event, out: Path) -> None:
    """Child process: enqueue one job after another on its own connections; write (monotonic, ms) pairs."""
    latencies: list[tuple[float, float]] = []

    async def loop() -> None:
        spec = SLEEP
        async with open_resources(settings, pool_size=2) as resources:
            while not stop.is_set():
                started = time.perf_counter()
                await resources.enqueuer.enqueue(spec, {})
                latencies.append((time.monotonic(), (time.perf_counter() - started) * 1000))
                await asyncio.sleep(0.002)

    asyncio.run(loop())
    out.write_text(json.dumps(latencies))


async def _prune(settings: Settings) -> tuple[dict[str, int], float, int]:
    engine = create_db_engine(settings.resolved_database_url, pool_size=2)
    retention = Retention(make_session_factory(engine), budget_s=3600.0)
    started = time.perf_counter()
    pruned = await retention.tick()
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        left = int(conn.execute(text("SELECT count(*) FROM worker_job_run WHERE arq_job_id LIKE 'old-%'")).scalar_one())
    engine.dispose()
    return pruned, elapsed, left


def _stats(samples: list[float]) -> dict[str, float]:
    """Latency figures; ``over_target`` counts enqueues slower than the target (machine noise shows in the baseline)."""
    if not samples:
        return {"count": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "over_target": 0}
    return {"count": len(samples), "p50_ms": round(percentile(samples, 50), 2),
            "p99_ms": round(percentile(samples, 99), 2), "p999_ms": round(percentile(samples, 99.9), 2),
            "max_ms": round(max(samples), 2), "over_target": sum(1 for ms in samples if ms > TARGET_MS)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="old ledger runs (each with one attempt)")
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--batch", type=int, help="retention.batch_rows for this run (default: the key's default)")
    args = parser.parse_args()
    settings = bench_settings("prune", args.redis_db, Path(tempfile.mkdtemp(prefix="bench-prune-")))
    engine = create_db_engine(settings.resolved_database_url)
    if args.batch is not None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO config_ext (tenant_id, key, value, updated_at) "
                              "VALUES (NULL, 'retention.batch_rows', CAST(:v AS jsonb), now())"),
                         {"v": str(args.batch)})
    load_s = _load(engine, args.rows)
    engine.dispose()
    print(f"loaded {args.rows:,} old runs and {args.rows:,} attempts in {load_s:.1f} s")

    context = multiprocessing.get_context("spawn")  # the enqueuer is its own process, like a real producer
    stop = context.Event()
    out = Path(tempfile.mkdtemp(prefix="bench-prune-")) / "latencies.json"
    enqueuer = context.Process(target=_enqueue_until_stopped, args=(settings, stop, out), name="enqueuer")
    enqueuer.start()
    time.sleep(15.0)
    baseline_end = time.monotonic()
    pruned, prune_s, left = asyncio.run(_prune(settings))
    prune_end = time.monotonic()
    stop.set()
    enqueuer.join(60)
    latencies = json.loads(out.read_text())
    baseline = [ms for at, ms in latencies if at < baseline_end]
    during = [ms for at, ms in latencies if baseline_end <= at < prune_end]
    deleted = sum(pruned.values())
    result = {
        "rows_old_runs": args.rows, "pruned": pruned,
        "rows_deleted": deleted + pruned.get("worker_job_run", 0),  # each pruned run took its attempt along
        "old_runs_left": left, "prune_s": round(prune_s, 1),
        "runs_per_s": round(pruned.get("worker_job_run", 0) / prune_s) if prune_s else 0,
        "enqueue_baseline": _stats(baseline), "enqueue_during_prune": _stats(during),
        "batch_rows": args.batch or config_key("retention.batch_rows").default, "target_max_enqueue_ms": TARGET_MS,
        "ok": left == 0 and bool(during) and max(during) <= TARGET_MS,
    }
    print(f"pruned {pruned} in {prune_s:.1f} s; enqueue during pruning: {_stats(during)}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
