"""CPI paging speed: simulator page rendering, client page parsing, and both over loopback HTTP.

``python -m bench.cpi_paging [--rows N]``. The simulator runs as its own process
(``integramon simulator``), as in production the tenant is another machine; the client pages through
a backfill window of N message logs. Prints a table; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from core.cpi import CpiClient
from core.cpi.models import MessageLog
from core.cpi.wire import decode_mpl_page
from simulator.config import SimulatorConfig, tenant_credentials
from simulator.mpl_query import page, select
from simulator.render import json_collection
from simulator.tenant import build_tenants

BASE = "http://127.0.0.1:1/t/tenant1/api/v1"


def render_and_parse_ms(pages: int = 20) -> tuple[float, float, int]:
    """Median ms to select+render one page of 1,000 logs, and to decode+parse it in the client."""
    tenant = build_tenants(SimulatorConfig(tenants=1, history_days=2, history_per_day=pages * 500))["tenant1"]
    count = tenant.visible_count()
    tenant.series.ensure_kinds(count)
    render, parse, size = [], [], 0
    token = None
    for _ in range(pages):
        started = time.perf_counter()
        result = page(select(tenant.series, count, None), "LogEnd", token, 0, 1000)
        body = json_collection([tenant.mpl_json(tenant.series.facts(i), BASE) for i in result.indexes], next_link="x")
        render.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        logs = [MessageLog.from_wire(w) for w in decode_mpl_page(body).d.results]
        parse.append((time.perf_counter() - started) * 1000)
        assert len(logs) == 1000
        token, size = result.next_token, len(body)
    return statistics.median(render), statistics.median(parse), size


def start_simulator(rows: int) -> tuple[subprocess.Popen[str], str]:
    per_day = rows // 2 + 1
    cmd = [
        sys.executable,
        "-m",
        "integramon",
        "simulator",
        "--port",
        "0",
        "--tenants",
        "1",
        "--seed",
        "5",
        "--history-days",
        "2",
        "--history-per-day",
        str(per_day),
        "--rate",
        "0",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEGRAMON_")}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        match = re.search(r"api_url=(\S+)", line)
        if match:
            return proc, match.group(1)
    raise RuntimeError("simulator did not print its URL")


async def page_through(api_url: str, rows: int) -> tuple[int, float]:
    creds = tenant_credentials(SimulatorConfig(tenants=1, seed=5), "tenant1")
    until = datetime.now(UTC)
    token_url = api_url.replace("/api/v1", "/oauth/token")
    async with CpiClient(api_url, token_url, creds.client_id, creds.client_secret) as cpi:
        await cpi.count_message_logs()  # token and connection first
        started = time.perf_counter()
        seen = 0
        async for batch in cpi.iter_message_logs(until - timedelta(days=3), until):
            seen += len(batch)
            if seen >= rows:
                break
        return seen, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=30000)
    args = parser.parse_args()
    render_ms, parse_ms, size = render_and_parse_ms()
    proc, api_url = start_simulator(args.rows)
    try:
        seen, seconds = asyncio.run(page_through(api_url, args.rows))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    rate = seen / seconds
    print(f"{'measure':44} {'value':>12}")
    print(f"{'simulator: select+render 1,000 logs (ms)':44} {render_ms:>12.1f}")
    print(f"{'client: decode+parse 1,000 logs (ms)':44} {parse_ms:>12.1f}")
    print(f"{'page size (bytes)':44} {size:>12,}")
    print(f"{'HTTP paging, separate processes (rows/s)':44} {rate:>12,.0f}")
    print(
        json.dumps(
            {
                "render_ms_per_1000": round(render_ms, 2),
                "parse_ms_per_1000": round(parse_ms, 2),
                "page_bytes": size,
                "rows": seen,
                "seconds": round(seconds, 3),
                "rows_per_s": round(rate),
            }
        )
    )


if __name__ == "__main__":
    main()
