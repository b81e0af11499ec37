"""One reconciliation pass over a 1,000,000-row ledger on PostgreSQL. Target <= 1 s.

The ledger looks like a month of history after an outage: 990,000 finished rows, 5,000 fresh queued
rows, and the candidates: 2,000 stale queued rows whose jobs are gone (-> skipped), 1,000 stale but
still runnable (left alone), 500 stale retrying rows whose jobs are gone (-> skipped), 500 running
rows of live workers (left alone), 500 running rows of dead workers (250 requeued -> retrying,
250 gone -> skipped). The "recovering" pass changes 3,000 rows and writes 3,000 outbox events; the
"steady" pass right after it finds nothing to change. Each repetition restores the candidate rows.
Usage: python -m bench.reconcile [--rows N] [--repeat R] [--redis-db D]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy import Engine, text

from bench.common import bench_settings, median
from core.db.session import create_db_engine, make_session_factory
from core.ledger.reconcile import ReconcileReport, reconcile
from core.queues.keys import worker_key

TARGET_S = 1.0
STALE = timedelta(minutes=45)

# (first id, last id, status, minutes ago enqueued, worker id expression) -- ids above the history
_BLOCKS = {
    "fresh_queued": (1, 5000, "queued", 10, "NULL"),
    "stale_gone": (5001, 7000, "queued", 120, "NULL"),
    "stale_runnable": (7001, 8000, "queued", 120, "NULL"),
    "retrying_gone": (8001, 8500, "retrying", 120, "NULL"),
    "running_live": (8501, 9000, "running", 10, "'live-' || (i % 10)"),
    "running_requeue": (9001, 9250, "running", 10, "'dead-' || (i % 5)"),
    "running_gone": (9251, 9500, "running", 10, "'dead-' || (i % 5)"),
    "retrying_recent": (9501, 10000, "retrying", 5, "NULL"),
}
_RESTORED = ("stale_gone", "retrying_gone", "running_requeue", "running_gone")


def _load(engine: Engine, rows: int) -> int:
    """Fill the ledger server-side (generate_series), then refresh the planner's statistics."""
    history = rows - 10000
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO worker_job_run (arq_job_id, queue, function, tenant_id, args_redacted, status, attempt,
                max_attempts, enqueued_at, started_at, finished_at, updated_at, worker_id)
            SELECT 'h' || i, 'messagelog_read', 'read_message_logs', i % 500, '{}'::jsonb,
                   CASE i % 100 WHEN 0 THEN 'failed' WHEN 1 THEN 'dead' ELSE 'succeeded' END, 1, 6,
                   now() - make_interval(secs => (i * 2.5)::float8), now() - make_interval(secs => (i * 2.5)::float8),
                   now() - make_interval(secs => (i * 2.5 - 1)::float8), now(), 'old-worker'
            FROM generate_series(1, CAST(:n AS integer)) AS i"""), {"n": history})
        for first, last, status, minutes, worker in _BLOCKS.values():
            conn.execute(text(f"""
                INSERT INTO worker_job_run (arq_job_id, queue, function, args_redacted, status, attempt,
                    max_attempts, enqueued_at, started_at, updated_at, worker_id)
                SELECT 'c' || i, 'periodic_run', 'sleep', '{{}}'::jsonb, CAST(:status AS text), 1, 3,
                       now() - make_interval(mins => CAST(:minutes AS integer)),
                       CASE WHEN CAST(:status AS text) = 'queued' THEN NULL ELSE now() END, now(), {worker}
                FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS i"""),
                {"status": status, "minutes": minutes, "first": first, "last": last})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE worker_job_run"))
    return history + 10000


def _restore(engine: Engine) -> None:
    """Put the recovered candidates back as they were before the pass."""
    with engine.begin() as conn:
        for name in _RESTORED:
            first, last, status, _, _ = _BLOCKS[name]
            conn.execute(text("""
                UPDATE worker_job_run SET status = :status, reconcile_meta = NULL, finished_at = NULL,
                    error_type = NULL, error_message = NULL
                WHERE arq_job_id IN (SELECT 'c' || i
                                     FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS i)"""),
                {"status": status, "first": first, "last": last})
        conn.execute(text("DELETE FROM outbox_event"))


async def _prepare_redis(redis: Redis) -> None:
    """Jobs for the runnable rows, heartbeats for the live workers; the dead workers have none."""
    await redis.flushdb()
    async with redis.pipeline(transaction=False) as pipe:
        for name in ("stale_runnable", "running_requeue", "retrying_recent", "fresh_queued"):
            first, last, _, _, _ = _BLOCKS[name]
            for i in range(first, last + 1):
                pipe.set(f"arq:job:c{i}", b"x", ex=3600)
            pipe.zadd("arq:queue:periodic_run", {f"c{i}": 1 for i in range(first, last + 1)})
        for w in range(10):
            pipe.set(worker_key(f"live-{w}"), json.dumps({"worker_id": f"live-{w}"}), ex=3600)
        await pipe.execute()


async def _measure(url: str, redis_url: str, rows: int, repeat: int) -> dict[str, object]:
    engine = create_db_engine(url)
    redis = Redis.from_url(redis_url)
    sessions = make_session_factory(engine)
    try:
        started = time.perf_counter()
        total = _load(engine, rows)
        load_s = time.perf_counter() - started
        await _prepare_redis(redis)
        recovering: list[float] = []
        steady: list[float] = []
        report: ReconcileReport | None = None
        for _ in range(repeat):
            _restore(engine)
            started = time.perf_counter()
            report = await reconcile(sessions, redis, stale_after=STALE)
            recovering.append(time.perf_counter() - started)
            if (report.skipped, report.retrying) != (2750, 250):
                raise SystemExit(f"unexpected pass result: {report.as_dict()}")
            started = time.perf_counter()
            again = await reconcile(sessions, redis, stale_after=STALE)
            steady.append(time.perf_counter() - started)
            if again.skipped or again.retrying:
                raise SystemExit("the second pass changed rows: not idempotent")
        assert report is not None
        return {"rows": total, "load_s": load_s, "recovering": recovering, "steady": steady,
                "examined": report.examined}
    finally:
        await redis.flushdb()
        await redis.aclose()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--redis-db", type=int, default=14)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings("reconcile", args.redis_db, Path(tmp))
        figures = asyncio.run(_measure(settings.database_url, settings.redis_url, args.rows, args.repeat))
    recovering = [float(x) for x in figures["recovering"]]  # type: ignore[attr-defined]
    steady = [float(x) for x in figures["steady"]]  # type: ignore[attr-defined]
    print(f"ledger rows {figures['rows']:,} (loaded in {float(figures['load_s']):.1f} s), "  # type: ignore[arg-type]
          f"candidates examined per pass {figures['examined']:,}")
    print(f"{'pass':12} {'changed':>8} {'median s':>9} {'runs s':>24}")
    print(f"{'recovering':12} {3000:>8} {median(recovering):>9.3f} {' '.join(f'{x:.3f}' for x in recovering):>24}")
    print(f"{'steady':12} {0:>8} {median(steady):>9.3f} {' '.join(f'{x:.3f}' for x in steady):>24}")
    print(json.dumps({"bench": "reconcile", "rows": figures["rows"], "pass_s": round(median(recovering), 3),
                      "steady_pass_s": round(median(steady), 3), "changed": 3000, "target_s": TARGET_S,
                      "ok": median(recovering) <= TARGET_S}))


if __name__ == "__main__":
    main()
