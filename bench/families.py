"""Stats and archive on one busy tenant-day: full and incremental ``stats_update_t``, then ``archive_cpi_day``
(local folder, verify, prune). No target is set by the issue; this prints the figures to watch.
Usage: python -m bench.families [--messages N] [--redis-db D]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench.common import bench_settings
from core.db.models.messages import MessageLog
from core.db.models.tenants import Tenant
from core.queues.catalog import function
from core.resources import Resources, open_resources
from functions.archive.jobs import archive_cpi_day
from functions.runner.context import JobContext
from functions.stats.jobs import stats_update_t

DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=40)


def _seed(res: Resources, count: int, start: int = 0, day: datetime = DAY,
          stored_at: datetime | None = None) -> None:
    """Insert ``count`` logs spread over ``day``, stored in LogEnd order as hot polling does (``stored_at`` of
    the newest; older ones 50 ms apart), so the stats overlap re-reads only the latest rows."""
    rng = random.Random(start)
    stored = stored_at or datetime.now(UTC)
    ends = sorted(day + timedelta(seconds=rng.randrange(86_400)) for _ in range(count))
    rows: list[dict[str, Any]] = []
    for i, end in enumerate(ends, start=start):
        rows.append({"tenant_id": 1, "message_guid": f"M{i:09d}", "status": rng.choice(["COMPLETED"] * 9 + ["FAILED"]),
                     "iflow_id": f"Flow{i % 50}", "package_id": f"Pkg{i % 7}", "log_end": end,
                     "log_start": end - timedelta(milliseconds=rng.randrange(5, 5000)), "extra": {},
                     "stored_at": stored - timedelta(seconds=(len(ends) - (i - start)) * 0.05)})
    with res.sessions.begin() as session:
        for offset in range(0, len(rows), 5000):
            session.execute(insert(MessageLog), rows[offset:offset + 5000])


def _ctx(res: Resources, name: str) -> JobContext:
    return JobContext(res, f"bench-{name}-{time.time()}", function(name), 1, "bench")


async def _timed(label: str, coro: Any, figures: dict[str, Any]) -> Any:
    started = time.perf_counter()
    result = await coro
    figures[label] = round(time.perf_counter() - started, 3)
    return result


async def run(messages: int, redis_db: int) -> dict[str, Any]:
    settings = bench_settings("families", redis_db, Path(tempfile.mkdtemp()))
    figures: dict[str, Any] = {"messages": messages}
    async with open_resources(settings) as res:
        with res.sessions.begin() as session:
            session.add(Tenant(id=1, name="bench", api_url="http://127.0.0.1:1", client_id="c",
                               client_secret_encrypted="x"))
        _seed(res, messages, stored_at=datetime.now(UTC) - timedelta(minutes=10))
        with res.engine.connect() as conn:  # a live table has statistics; a freshly filled one must be analysed
            conn.execute(text("ANALYZE message_log"))
            conn.commit()
        await _timed("stats_full_s", stats_update_t(_ctx(res, "stats_update_t")), figures)
        _seed(res, 1000, start=messages, day=DAY + timedelta(hours=30))
        await _timed("stats_incremental_1k_s", stats_update_t(_ctx(res, "stats_update_t")), figures)
        result = await _timed("archive_day_s", archive_cpi_day(_ctx(res, "archive_cpi_day"), tenant_id=1,
                                                                day=DAY.date().isoformat()), figures)
        figures.update(archived=result["messages"], pruned=result["pruned"], archive_bytes=result["size_bytes"])
        await _timed("archive_rerun_s", archive_cpi_day(_ctx(res, "archive_cpi_day"), tenant_id=1,
                                                          day=DAY.date().isoformat()), figures)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--redis-db", type=int, default=5)
    args = parser.parse_args()
    figures = asyncio.run(run(args.messages, args.redis_db))
    for key, value in figures.items():
        print(f"{key:<26} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
