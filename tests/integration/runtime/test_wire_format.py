"""Jobs travel as versioned JSON: a pickle planted in Redis is refused unread, recorded as failed,
removed, and never blocks the slot; arq's own Job API reads our keys through the serializer hooks."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path
from typing import Any, cast

import redis as redis_sync
from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus
from redis.asyncio import ConnectionPool
from sqlalchemy.orm import Session, sessionmaker

from core.queues.serialization import ARQ_HOOKS, decode_any, decode_job
from core.settings import Settings
from tests.integration.runtime.conftest import enqueue, runs
from tests.processes import running, wait_until


class _Exploit:
    """Unpickling this creates ``marker``: the proof that someone executed the payload."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def _planted(marker: Path) -> bytes:
    return pickle.dumps({"t": 1, "f": "noop", "a": (), "k": {"x": _Exploit(marker)}, "et": 0})


def test_a_planted_pickle_is_refused_failed_removed_and_the_slot_stays_free(
    settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    (bad,) = enqueue(settings, "sleep", {"seconds": 0.1})
    rsync.set(f"arq:job:{bad}", _planted(marker))  # an attacker with Redis access rewrites the job
    (good,) = enqueue(settings, "sleep", {"seconds": 0.1})
    with running(settings, "worker", "--group", "periodic", "--concurrency", "1", log=tmp_path / "w.log"):
        wait_until(lambda: runs(db, arq_job_id=good)[0].status == "succeeded", timeout=30,
                   what="the valid job behind the planted one to run")
        wait_until(lambda: runs(db, arq_job_id=bad)[0].status == "failed", what="the planted job failed")
    assert not marker.exists(), "the planted pickle was executed"
    run = runs(db, arq_job_id=bad)[0]
    assert run.error_type == "PermanentJobError"
    assert "not JSON" in (run.error_message or "")
    for key in (f"arq:job:{bad}", f"arq:in-progress:{bad}"):
        assert rsync.get(key) is None
    assert rsync.zscore("arq:queue:periodic_run", bad) is None
    result = cast("bytes | None", rsync.get(f"arq:result:{bad}"))
    assert result is not None
    assert decode_any(result)["s"] is False


def test_arguments_the_function_does_not_take_fail_the_run_at_once_and_the_slot_stays_free(
    settings: Settings, db: sessionmaker[Session], tmp_path: Path
) -> None:
    """Binding the arguments fails before the function runs: a permanent failure in the ledger (no
    retry can differ), not a job left leased until its lease runs out."""
    (bad,) = enqueue(settings, "sleep", {"seconds": 0.1, "bogus": 1})
    (good,) = enqueue(settings, "sleep", {"seconds": 0.1})
    with running(settings, "worker", "--group", "periodic", "--concurrency", "1", log=tmp_path / "w.log"):
        wait_until(lambda: runs(db, arq_job_id=bad)[0].status == "failed", timeout=30, what="the bad job failed")
        wait_until(lambda: runs(db, arq_job_id=good)[0].status == "succeeded", timeout=30,
                   what="the valid job behind it to run")
    run = runs(db, arq_job_id=bad)[0]
    assert (run.attempt, run.error_type) == (1, "PermanentJobError")
    assert "cannot take these arguments" in (run.error_message or "")
    assert "bogus" in (run.error_message or "")


def test_jobs_are_json_with_a_version_and_arqs_job_api_reads_them(
    settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis, tmp_path: Path, redis_url: str
) -> None:
    (job_id,) = enqueue(settings, "noop", {"counter": "wire"})
    raw = cast("bytes | None", rsync.get(f"arq:job:{job_id}"))
    assert raw is not None
    assert raw.startswith(b"{")
    assert b'"v":1' in raw
    assert decode_job(raw)["k"] == {"counter": "wire"}

    async def arq_view() -> tuple[Any, Any]:
        pool = ArqRedis(ConnectionPool.from_url(redis_url), **ARQ_HOOKS)
        try:
            job = Job(job_id, pool, _queue_name="arq:queue:periodic_run", _deserializer=decode_any)
            queued = await pool.queued_jobs(queue_name="arq:queue:periodic_run")
            assert [(j.function, j.kwargs) for j in queued] == [("noop", {"counter": "wire"})]
            return await job.info(), await job.status()
        finally:
            await pool.aclose()

    info, status = asyncio.run(arq_view())
    assert info is not None
    assert (info.function, info.kwargs) == ("noop", {"counter": "wire"})
    assert status == JobStatus.queued
    with running(settings, "worker", "--group", "periodic", log=tmp_path / "w.log"):
        wait_until(lambda: runs(db, arq_job_id=job_id)[0].status == "succeeded", timeout=30, what="noop to run")

    async def arq_result() -> Any:
        pool = ArqRedis(ConnectionPool.from_url(redis_url), **ARQ_HOOKS)
        try:
            return await Job(job_id, pool, _queue_name="arq:queue:periodic_run",
                             _deserializer=decode_any).result(timeout=5)
        finally:
            await pool.aclose()

    assert asyncio.run(arq_result()) is None  # noop returns None; arq read our JSON result
    assert decode_any(cast("bytes | None", rsync.get(f"arq:result:{job_id}")) or b"")["s"] is True
