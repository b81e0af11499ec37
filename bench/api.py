"""Admin API latency: ``GET /api/v1/jobs`` on a 1,000,000-row ledger with 32 concurrent clients (wrk).

Loads the ledger with one ``INSERT ... SELECT generate_series`` (seconds, not minutes), starts the API with
uvicorn (one process per core), and runs wrk against the newest page, a status filter, a queue + tenant
filter and a deep keyset page. Target: p99 <= 50 ms. Prints a table; the last line is one JSON object.

    python -m bench.api [--rows 1000000] [--connections 32] [--seconds 15] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from admin_api.auth.services import create_token
from bench.common import bench_settings, child_env
from core.db.session import create_db_engine, make_session_factory
from core.queues.catalog import FUNCTIONS
from core.settings import Settings

TARGET_P99_MS = 50.0
REDIS_DB = 4
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}

LOAD_SQL = """
INSERT INTO worker_job_run (arq_job_id, queue, function, tenant_id, args_redacted, status, attempt,
    max_attempts, enqueued_at, started_at, finished_at, duration_ms, worker_id, error_type, updated_at)
SELECT 'bench-' || g,
       (%(queues)s::text[])[1 + g %% %(nq)s],
       (%(functions)s::text[])[1 + g %% %(nq)s],
       1 + g %% 20,
       '{}'::jsonb,
       (ARRAY['succeeded','succeeded','succeeded','succeeded','succeeded','succeeded','failed','dead',
              'queued','running','retrying','skipped','cancelled'])[1 + (g / 7) %% 13],
       1, 3,
       now() - make_interval(secs => (%(rows)s - g) * 0.6),
       now() - make_interval(secs => (%(rows)s - g) * 0.6) + interval '1 second',
       now() - make_interval(secs => (%(rows)s - g) * 0.6) + interval '2 seconds',
       1000 + g %% 5000,
       'bench-worker',
       NULL,
       now()
FROM generate_series(1, %(rows)s) AS g
"""


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        print("bench.api: `wrk` is not installed; install it with `apt-get install -y wrk` (Debian package)",
              file=sys.stderr)
        sys.exit(2)
    return path


def load_ledger(settings: Settings, rows: int) -> float:
    """Fill worker_job_run with ``rows`` rows spread over the catalog's functions; returns seconds taken."""
    specs = list(FUNCTIONS.values())
    dsn = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(LOAD_SQL, {"queues": [s.queue for s in specs], "functions": [s.name for s in specs],
                                "nq": len(specs), "rows": rows})
        conn.execute("VACUUM ANALYZE worker_job_run")
    return time.perf_counter() - started


def make_token(settings: Settings) -> str:
    engine = create_db_engine(settings.resolved_database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            return create_token(session, "bench", "viewer")
    finally:
        engine.dispose()


def free_port() -> int:
    for port in range(18450, 18500):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18450-18499")


def start_api(settings: Settings, port: int, workers: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "integramon", "api", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=child_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"admin API did not start: {proc.stderr.read().decode() if proc.stderr else ''}")


def scenarios(base: str, token: str) -> dict[str, str]:
    """Named URLs; the deep page's cursor comes from walking 200 pages back first."""
    headers = {"Authorization": f"Bearer {token}"}
    cursor = None
    with httpx.Client(headers=headers, timeout=30) as http:
        for _ in range(200):
            page = http.get(f"{base}/api/v1/jobs", params={"limit": 50, **({"cursor": cursor} if cursor else {})})
            cursor = page.json()["next_cursor"]
    return {
        "newest page (limit 50)": f"{base}/api/v1/jobs?limit=50",
        "status=failed": f"{base}/api/v1/jobs?status=failed&limit=50",
        "queue + tenant filter": f"{base}/api/v1/jobs?queue=messagelog_read&tenant_id=3&limit=50",
        "deep keyset page (10,000 back)": f"{base}/api/v1/jobs?limit=50&cursor={cursor}",
    }


def parse_wrk(output: str) -> dict[str, float]:
    """Percentiles (ms) and requests/s from ``wrk --latency`` output."""
    result: dict[str, float] = {}
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M):
        result[f"p{pct}_ms"] = round(float(value) * _UNIT_MS[unit], 2)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["rps"] = float(rps.group(1)) if rps else 0.0
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return result


def run_wrk(wrk: str, url: str, token: str, connections: int, seconds: int) -> dict[str, float]:
    cmd = [wrk, "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s", "--latency",
           "--timeout", "5s", "-H", f"Authorization: Bearer {token}", url]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    wrk = require_wrk()
    settings = bench_settings("api", REDIS_DB, Path(tempfile.mkdtemp(prefix="bench-api-")))
    load_s = load_ledger(settings, args.rows)
    token = make_token(settings)
    port = free_port()
    proc = start_api(settings, port, args.workers)
    results: dict[str, Any] = {}
    load_before = os.getloadavg()[0]
    try:
        urls = scenarios(f"http://127.0.0.1:{port}", token)
        for name, url in urls.items():
            run_wrk(wrk, url, token, args.connections, 2)  # warm caches and connection pools
            results[name] = run_wrk(wrk, url, token, args.connections, args.seconds)
        # One client: the service time of one request, without queueing behind the other 31.
        single = run_wrk(wrk, next(iter(urls.values())), token, 1, max(3, args.seconds // 3))
    finally:
        proc.terminate()
        proc.wait(15)
    load_after = os.getloadavg()[0]
    print(f"ledger rows: {args.rows:,} (loaded in {load_s:.1f} s); {args.connections} connections, "
          f"{args.seconds} s per scenario, {args.workers} API processes; "
          f"host load average {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} CPUs")
    print(f"{'scenario':34} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, r in results.items():
        print(f"{name:34} {r['rps']:>8.0f} {r.get('p50_ms', 0):>8.2f} {r.get('p90_ms', 0):>8.2f} "
              f"{r.get('p99_ms', 0):>8.2f} {r['non_2xx']:>8.0f}")
    print(f"{'newest page, 1 connection':34} {single['rps']:>8.0f} {single.get('p50_ms', 0):>8.2f} "
          f"{single.get('p90_ms', 0):>8.2f} {single.get('p99_ms', 0):>8.2f} {single['non_2xx']:>8.0f}")
    worst = max(r.get("p99_ms", float("inf")) for r in results.values())
    print(json.dumps({"bench": "api", "rows": args.rows, "connections": args.connections,
                      "workers": args.workers, "target_p99_ms": TARGET_P99_MS, "worst_p99_ms": worst,
                      "meets_target": worst <= TARGET_P99_MS, "load_average": [load_before, load_after],
                      "single_connection": single, "scenarios": results}))


if __name__ == "__main__":
    main()
