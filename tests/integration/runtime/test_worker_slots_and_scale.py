"""Slots, scale-out and fairness of the group worker, with real worker processes, Redis and PostgreSQL."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import cast

import redis as redis_sync
from sqlalchemy.orm import Session, sessionmaker

from core.queues.keys import WORKERS_INDEX
from core.settings import Settings
from functions.runner.worker import held_limit
from tests.integration.runtime.conftest import attempts, enqueue, runs
from tests.processes import integramon, running, wait_until


def test_at_most_concurrency_jobs_run_and_claims_wait_for_a_free_slot(
    settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis, tmp_path: Path
) -> None:
    ids = enqueue(settings, "sleep", {"seconds": 0.4}, count=8)
    seen_in_progress: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen_in_progress.append(len(cast("list[bytes]", rsync.keys("arq:in-progress:*"))))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        proc = integramon(
            settings, "worker", "--group", "periodic", "--burst", "--concurrency", "2", log=tmp_path / "w.log"
        )
        assert proc.wait(60) == 0, (tmp_path / "w.log").read_text()
    finally:
        stop.set()
        sampler.join()
    # leases held: the running jobs plus endings awaiting the ledger (a slot is free when its function
    # ends, the job leaves Redis after its batch commits); the spans below check the slot limit
    assert 2 <= max(seen_in_progress) <= held_limit(2)
    spans = [(a.started_at, a.finished_at) for jid in ids for a in attempts(db, jid)]
    assert len(spans) == 8
    for start, _ in spans:
        overlapping = sum(1 for s, f in spans if s <= start < f)  # type: ignore[operator]
        assert overlapping <= 2
    assert {r.status for r in runs(db)} == {"succeeded"}


def test_three_processes_drain_a_shared_backlog_exactly_once(
    settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis, tmp_path: Path
) -> None:
    """The backlog lands once all three processes serve: a process that started late on a loaded machine
    used to find it drained by the others (a worker frees its slot when the function ends, so one
    process alone drains 3,000 no-ops in about two seconds). SIGTERM ends them: their last endings are
    written before they exit 0."""
    procs = [
        integramon(settings, "worker", "--group", "periodic", "--concurrency", "20", log=tmp_path / f"w{i}.log")
        for i in range(3)
    ]
    try:
        wait_until(lambda: rsync.scard(WORKERS_INDEX) == 3, timeout=120, what="three workers serving")
        ids = enqueue(settings, "noop", {"counter": "exactly-once"}, count=3000)
        assert len(ids) == 3000
        wait_until(lambda: cast(int, rsync.hlen("exactly-once")) >= 3000, timeout=120, what="every job to run")
    finally:
        for proc in procs:
            proc.terminate()
    for i, proc in enumerate(procs):
        assert proc.wait(60) == 0, (tmp_path / f"w{i}.log").read_text()
    counts = {k.decode(): int(v) for k, v in cast("dict[bytes, bytes]", rsync.hgetall("exactly-once")).items()}
    assert set(counts) == set(ids)
    assert set(counts.values()) == {1}
    ledger = runs(db)
    assert len(ledger) == 3000
    assert {(r.status, r.attempt) for r in ledger} == {("succeeded", 1)}
    per_worker: dict[str, int] = {}
    for r in ledger:
        per_worker[r.worker_id or ""] = per_worker.get(r.worker_id or "", 0) + 1
    assert len(per_worker) == 3, per_worker  # every process took a share


def test_heartbeat_is_published_and_removed_on_clean_exit(
    settings: Settings, rsync: redis_sync.Redis, tmp_path: Path
) -> None:
    import json

    with running(settings, "worker", "--group", "periodic", "--concurrency", "3", log=tmp_path / "w.log") as proc:
        members = wait_until(lambda: rsync.smembers("integramon:workers"), what="a heartbeat")
        (worker_id,) = [m.decode() for m in members]  # type: ignore[attr-defined]
        beat = json.loads(rsync.get(f"integramon:worker:{worker_id}"))  # type: ignore[arg-type]
        assert beat["group"] == "periodic"
        assert beat["queues"] == ["periodic_run", "stats_cache"]
        assert beat["concurrency"] == 3
        assert beat["pid"] == proc.pid
        assert {"host", "version", "running", "last_seen", "started_at"} <= set(beat)
        assert 0 < cast(int, rsync.pttl(f"integramon:worker:{worker_id}")) <= settings.heartbeat_ttl_seconds * 1000
        health = subprocess.run(
            [*_cli(), "worker-health", "--group", "periodic"], env=_env(settings), capture_output=True, text=True
        )
        assert health.returncode == 0, health.stdout + health.stderr
        proc.terminate()
        assert proc.wait(20) == 0
    assert rsync.get(f"integramon:worker:{worker_id}") is None
    assert not rsync.sismember("integramon:workers", worker_id)
    health = subprocess.run(
        [*_cli(), "worker-health", "--group", "periodic"], env=_env(settings), capture_output=True, text=True
    )
    assert health.returncode == 1


def _cli() -> list[str]:
    import sys

    return [sys.executable, "-m", "integramon"]


def _env(settings: Settings) -> dict[str, str]:
    from tests.processes import process_env

    return process_env(settings)


def test_single_enqueues_handed_to_three_one_slot_processes_run_once_each_within_the_slot_limit(
    settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis, tmp_path: Path
) -> None:
    """Hand-off under contention: jobs enqueued one per call from several producers at once, while
    three one-slot workers keep opening and withdrawing offers (each job sleeps a little, so offers
    meet busy workers, full claims and named claims): every job runs exactly once, no process ever
    runs two at a time, and SIGTERM leaves no offer open."""
    import asyncio

    from core.queues.catalog import function
    from core.queues.keys import HANDED_OFFERS, OFFERS
    from core.resources import open_resources

    async def produce() -> list[str]:
        async with open_resources(settings) as res:
            async def producer(n: int) -> list[str]:
                ids = []
                for i in range(n):
                    job_id = await res.enqueuer.enqueue(function("sleep"), {"seconds": 0.005, "counter": "handed"})
                    assert job_id is not None
                    ids.append(job_id)
                    await asyncio.sleep(0.002 * (i % 5))
                return ids
            return [j for ids in await asyncio.gather(*(producer(60) for _ in range(4))) for j in ids]

    procs = [integramon(settings, "worker", "--queue", "periodic_run", "--concurrency", "1",
                        log=tmp_path / f"w{i}.log") for i in range(3)]
    try:
        wait_until(lambda: rsync.hlen(OFFERS) == 3, timeout=120, what="three workers offering")
        ids = asyncio.run(produce())
        wait_until(lambda: cast(int, rsync.hlen("handed")) >= len(ids), timeout=120, what="every job to run")
    finally:
        for proc in procs:
            proc.terminate()
    for i, proc in enumerate(procs):
        assert proc.wait(60) == 0, (tmp_path / f"w{i}.log").read_text()
    counts = {k.decode(): int(v) for k, v in cast("dict[bytes, bytes]", rsync.hgetall("handed")).items()}
    assert set(counts) == set(ids)
    assert set(counts.values()) == {1}
    assert {(r.status, r.attempt) for r in runs(db)} == {("succeeded", 1)}
    spans: dict[str, list[tuple[object, object]]] = {}
    for jid in ids:
        for a in attempts(db, jid):
            spans.setdefault(a.worker_id or "", []).append((a.started_at, a.finished_at))
    assert len(spans) == 3
    for worker_spans in spans.values():
        for start, _ in worker_spans:
            assert sum(1 for s, f in worker_spans if s <= start < f) == 1  # type: ignore[operator]
    assert rsync.hlen(OFFERS) == 0, "each worker withdrew its offer at SIGTERM"
    assert rsync.hlen(HANDED_OFFERS) == 0
