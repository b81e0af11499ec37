"""Stats correctness under late and changing data: a simulated day ingested minute by minute.

Every message log goes through the real ingestion upsert. The day has:
- late arrivals: about 10 % of logs become visible 5-120 minutes after their LogEnd;
- moved LogEnds: about 15 % of messages are first seen as RETRY and later end FAILED or COMPLETED with a
  LogEnd 1-90 minutes later (a few also change package);
- late commits: about one minute in 20 its batch is written in a transaction held open across the next
  1-5 stats passes, then committed.
After every simulated minute ``update_tenant`` (the incremental ``stats_update_t`` pass) runs; every
``--check-every`` minutes and at the end every stored cell is compared with a full recomputation from
``message_log`` (``functions.stats.verify``). Prints wrong cells (must be 0) and the pass times.
Usage: python -m bench.stats_exact [--messages N] [--check-every MIN] [--seed S] [--redis-db D]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bench.common import bench_settings, percentile
from core.cpi.models import MessageLog as CpiLog
from core.db.models.tenants import Tenant
from core.db.session import create_db_engine, make_session_factory
from functions.ingestion.upsert import upsert_message_logs
from functions.stats.buckets import update_tenant
from functions.stats.verify import compare

DAY = datetime(2026, 11, 20, tzinfo=UTC)
MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class Version:
    """One state of a message as CPI shows it from ``visible_minute`` on."""

    visible_minute: int
    log: CpiLog


def _plan(count: int, rng: random.Random) -> tuple[dict[int, list[Version]], dict[str, int]]:
    """Versions by the minute they become visible, and how many of each kind of disturbance."""
    by_minute: dict[int, list[Version]] = defaultdict(list)
    kinds = {"messages": count, "late_arrivals": 0, "moved_log_ends": 0, "package_changes": 0}

    def visible(end: datetime) -> int:
        delay_s = rng.uniform(0, 60)
        if rng.random() < 0.10:
            delay_s = rng.uniform(300, 7200)
            kinds["late_arrivals"] += 1
        return int(((end - DAY).total_seconds() + delay_s) // 60) + 1

    for i in range(count):
        guid, flow, pkg = f"B{i:08d}", f"Flow{i % 40}", f"Pkg{i % 6}"
        start = DAY + timedelta(seconds=rng.uniform(0, 86_000))
        end = start + timedelta(milliseconds=rng.randrange(5, 20_000))
        if rng.random() < 0.15:
            kinds["moved_log_ends"] += 1
            first = CpiLog(message_guid=guid, status="RETRY", log_start=start, log_end=end, iflow_id=flow,
                           package_id=pkg)
            by_minute[visible(end)].append(Version(visible(end), first))
            end = end + timedelta(minutes=rng.uniform(1, 90))
            if rng.random() < 0.1:
                pkg = f"Pkg{(i + 1) % 6}"
                kinds["package_changes"] += 1
        status = rng.choice(["COMPLETED"] * 8 + ["FAILED", "ESCALATED"])
        final = CpiLog(message_guid=guid, status=status, log_start=start, log_end=end, iflow_id=flow, package_id=pkg)
        by_minute[visible(end)].append(Version(visible(end), final))
    return by_minute, kinds


@dataclass
class Held:
    """A transaction held open (a late commit) and the stats passes left before it commits."""

    session: Session
    guids: set[str]
    passes_left: int


def _write(sessions: sessionmaker[Session], tenant_id: int, logs: list[CpiLog], session: Session | None) -> None:
    if session is not None:
        upsert_message_logs(session, tenant_id, logs)
        session.flush()
        return
    with sessions.begin() as fresh:
        upsert_message_logs(fresh, tenant_id, logs)


def run(count: int, check_every: int, seed: int, sessions: sessionmaker[Session], tenant_id: int) -> dict[str, object]:
    rng = random.Random(seed)
    by_minute, kinds = _plan(count, rng)
    pass_ms: list[float] = []
    deferred: list[CpiLog] = []
    held: Held | None = None
    checks = wrong_total = late_commits = 0
    wrong_last = 0
    last_minute = max(by_minute) + 1
    for minute in range(1, max(MINUTES, last_minute) + 10):  # room for the last late commit to land
        if held is not None:  # a late commit lands between passes (then the next pass must catch it)
            held.passes_left -= 1
            if held.passes_left <= 0:
                held.session.commit()
                held.session.close()
                held = None
        # What became visible in this minute, newest version per guid last; a guid locked by the held
        # transaction waits for its commit (a single-threaded bench must not block on its own lock).
        due = [v.log for v in by_minute.pop(minute, [])]
        due.sort(key=lambda log: log.log_end or DAY)
        batch, deferred = [*deferred, *due], []
        if held is not None:
            deferred = [log for log in batch if log.message_guid in held.guids]
            batch = [log for log in batch if log.message_guid not in held.guids]
        if batch:
            if held is None and rng.random() < 0.05:
                held = Held(sessions(), {log.message_guid for log in batch}, rng.randint(2, 6))
                held.session.begin()
                late_commits += 1
                _write(sessions, tenant_id, batch, held.session)
            else:
                _write(sessions, tenant_id, batch, None)

        started = time.perf_counter()
        with sessions.begin() as session:
            update_tenant(session, tenant_id)
        pass_ms.append((time.perf_counter() - started) * 1000)

        if minute % check_every == 0 or (minute >= MINUTES and not by_minute and held is None and not deferred):
            with sessions() as session:
                wrong_last = len(compare(session, tenant_id))
            wrong_total += wrong_last
            checks += 1
            if minute >= MINUTES and not by_minute and held is None and not deferred:
                break
    else:
        raise RuntimeError("the simulated day did not drain")  # cannot happen: the range leaves room
    return {**kinds, "late_commits": late_commits, "minutes": len(pass_ms), "checks": checks,
            "wrong_cells": wrong_total, "wrong_cells_final": wrong_last,
            "pass_ms_median": round(statistics.median(pass_ms), 2), "pass_ms_p95": round(percentile(pass_ms, 95), 2),
            "pass_ms_max": round(max(pass_ms), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stats_exact", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--check-every", type=int, default=10, help="minutes between full comparisons")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--redis-db", type=int, default=8)
    args = parser.parse_args(argv)
    if args.messages < 1 or args.check_every < 1:
        print("--messages and --check-every must be at least 1", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings("stats_exact", args.redis_db, Path(tmp))
        engine = create_db_engine(settings.database_url)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            tenant = Tenant(name="bench", api_url="http://127.0.0.1:1/api/v1", client_id="c",
                            client_secret_encrypted="x")
            session.add(tenant)
            session.flush()
            tenant_id = tenant.id
        try:
            figures = run(args.messages, args.check_every, args.seed, sessions, tenant_id)
        finally:
            engine.dispose()
    print(f"{figures['messages']} messages ({figures['late_arrivals']} late arrivals, {figures['moved_log_ends']} "
          f"moved LogEnds, {figures['late_commits']} late commits) over {figures['minutes']} simulated minutes")
    print(f"wrong cells over {figures['checks']} full comparisons: {figures['wrong_cells']} (must be 0)")
    print(f"incremental pass: median {figures['pass_ms_median']} ms, p95 {figures['pass_ms_p95']} ms, "
          f"max {figures['pass_ms_max']} ms")
    print(json.dumps({"bench": "stats_exact", **figures}))
    return 0 if figures["wrong_cells"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
