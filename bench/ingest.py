"""End-to-end message-log ingestion: CPI simulator (its own process, over HTTP) -> async client ->
batch upsert -> PostgreSQL, through the real ``read_message_logs_cold`` job. Target: >= 10,000 rows/s.

A first, untimed-for-the-median warm-up pass lets the simulator build its per-message caches (its
first reply of each page is several times slower, a simulator cost, not ours). Each timed repetition
then backfills a fresh tenant's history (every row a new INSERT); a final pass re-reads the same
history (every row an unchanged upsert, the overlap case). Prints a table, then one JSON line.
Usage: python -m bench.ingest [--rows N] [--repeat R] [--redis-db D] [--port P]
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
from typing import Any

import httpx
from sqlalchemy import text

from bench.common import bench_settings, child_env, integramon_cmd, median
from core.db.models.tenants import Tenant
from core.queues.catalog import READ_MESSAGE_LOGS_COLD
from core.resources import Resources, open_resources
from core.secrets import SecretBox
from core.settings import Settings
from functions.ingestion.cold import read_message_logs_cold
from functions.runner.context import JobContext

DAYS = 2


def start_simulator(settings: Settings, port: int, rows: int) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """The simulator in its own process (as in production, it does not share our CPU core)."""
    cmd = integramon_cmd("simulator", "--port", str(port), "--tenants", "1", "--seed", "7", "--rate", "0",
                         "--history-days", str(DAYS), "--history-per-day", str(rows // DAYS))
    proc = subprocess.Popen(cmd, env=child_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            tenants = httpx.get(f"http://127.0.0.1:{port}/_sim/tenants", timeout=2).json()
            return proc, tenants[0]
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise SystemExit(f"simulator exited with {proc.returncode}") from None
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("simulator did not start within 30 s")


def add_tenant(res: Resources, info: dict[str, Any], name: str) -> int:
    with res.sessions.begin() as session:
        tenant = Tenant(name=name, api_url=info["api_url"], token_url=info["token_url"], client_id=info["client_id"],
                        client_secret_encrypted=SecretBox(res.settings).encrypt(info["client_secret"]))
        session.add(tenant)
        session.flush()
        return tenant.id


async def one_pass(res: Resources, tenant_id: int) -> tuple[float, int, int]:
    """(seconds, rows received, rows changed) of one backfill of the whole history."""
    ctx = JobContext(res, f"bench-{tenant_id}-{time.monotonic_ns()}", READ_MESSAGE_LOGS_COLD, 1, "bench")
    started = time.perf_counter()
    result = await read_message_logs_cold(ctx, tenant_id, days=DAYS + 1, budget_s=3600)
    return time.perf_counter() - started, int(str(result["received"])), int(str(result["changed"]))


def reset_cold_watermark(res: Resources, tenant_id: int) -> None:
    with res.sessions.begin() as session:
        session.execute(text("DELETE FROM ingest_watermark WHERE tenant_id = :t"), {"t": tenant_id})


async def run(rows: int, repeat: int, redis_db: int, port: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings("ingest", redis_db, Path(tmp))
        sim, info = start_simulator(settings, port, rows)
        try:
            async with open_resources(settings) as res:
                warmup = await one_pass(res, add_tenant(res, info, "warmup"))
                fresh: list[tuple[float, int, int]] = []
                for n in range(repeat):
                    fresh.append(await one_pass(res, add_tenant(res, info, f"bench{n}")))
                reset_cold_watermark(res, 2)
                reread = await one_pass(res, 2)
        finally:
            sim.terminate()
            sim.wait(timeout=10)
    rates = [received / seconds for seconds, received, _ in fresh]
    print(f"{'pass':<22}{'rows':>10}{'changed':>10}{'seconds':>10}{'rows/s':>12}")
    passes = [("warm-up (insert)", warmup), *((f"backfill {n + 1} (insert)", f) for n, f in enumerate(fresh)),
              ("re-read (unchanged)", reread)]
    for label, (seconds, received, changed) in passes:
        print(f"{label:<22}{received:>10}{changed:>10}{seconds:>10.2f}{received / seconds:>12,.0f}")
    seconds, received, _ = reread
    return {"bench": "ingest", "rows": fresh[0][1], "repeat": repeat, "rows_per_s_median": round(median(rates)),
            "rows_per_s_all": [round(r) for r in rates], "reread_rows_per_s": round(received / seconds),
            "warmup_rows_per_s": round(warmup[1] / warmup[0]),
            # The machine is shared: a 1-minute load average far above its core count slows every pass.
            "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)], "cpus": os.cpu_count(),
            "target_rows_per_s": 10000, "meets_target": median(rates) >= 10000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=60000, help="messages in the simulated history")
    parser.add_argument("--repeat", type=int, default=3, help="fresh backfills to time (median reported)")
    parser.add_argument("--redis-db", type=int, default=3)
    parser.add_argument("--port", type=int, default=18310, help="simulator port")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.rows, args.repeat, args.redis_db, args.port))))


if __name__ == "__main__":
    main()
