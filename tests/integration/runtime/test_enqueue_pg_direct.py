"""Enqueue's direct PostgreSQL path (psycopg pool, no SQLAlchemy session): the ledger row is committed
(visible from another connection) before the job reaches Redis; a Redis failure fails the rows through
the same pool; the pool is closed with the process's resources."""

from __future__ import annotations

from typing import Any, cast

import pytest
import redis as redis_sync
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ServiceUnavailable
from core.queues import enqueue as enqueue_module
from core.queues.catalog import NOOP
from core.queues.enqueue import EnqueueRequest
from core.queues.keys import queue_key
from core.resources import open_resources
from core.settings import Settings
from tests.integration.runtime.conftest import runs


async def test_ledger_row_is_committed_before_the_job_reaches_redis(
        settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis) -> None:
    seen_at_push: list[list[tuple[str, str]]] = []
    async with open_resources(settings) as res:
        enqueuer = res.enqueuer
        assert enqueuer._pg is not None, "a PostgreSQL process takes the direct path"
        real_script = enqueuer._script

        async def push(*, keys: list[str], args: list[Any]) -> Any:
            # another connection (the test's own engine) must already see every row, committed
            assert rsync.zcard(queue_key(NOOP.queue)) == 0
            seen_at_push.append([(r.arq_job_id, r.status) for r in runs(db)])
            return await real_script(keys=keys, args=args)

        enqueuer._script = push
        one = await enqueuer.enqueue(NOOP, {"n": 1})
        rsync.delete(queue_key(NOOP.queue))
        many = await enqueuer.enqueue_many([EnqueueRequest(NOOP, {"n": i}) for i in range(3)])
        pool = enqueuer._pg._pool
    assert pool.closed, "the pool closes with the resources"
    assert seen_at_push[0] == [(one, "queued")]
    assert [job for job, _ in seen_at_push[1]] == [one, *many]
    assert rsync.zcard(queue_key(NOOP.queue)) == 3


@pytest.mark.parametrize("direct", [True, False], ids=["pool", "session"])
async def test_dedup_and_job_id_conflicts_hold_through_the_pool(
        settings: Settings, db: sessionmaker[Session], direct: bool) -> None:
    """The same statement on both PostgreSQL executors (a worker process enqueues through its session)."""
    async with open_resources(settings, direct_enqueue=direct) as res:
        assert (res.enqueuer._pg is not None) is direct
        first = await res.enqueuer.enqueue(NOOP, {}, dedup_key="pickup:d", job_id="pickup-fixed")
        assert first == "pickup-fixed"
        assert await res.enqueuer.enqueue(NOOP, {}, dedup_key="pickup:d") is None
        assert await res.enqueuer.enqueue(NOOP, {}, job_id="pickup-fixed") is None
        batch = await res.enqueuer.enqueue_many([EnqueueRequest(NOOP, {}, job_id="pickup-twice"),
                                                 EnqueueRequest(NOOP, {}, job_id="pickup-twice")])
        assert batch == ["pickup-twice"]
    assert [r.arq_job_id for r in runs(db)] == ["pickup-fixed", "pickup-twice"]


async def test_redis_failure_fails_the_rows_through_the_pool(settings: Settings, db: sessionmaker[Session]) -> None:
    async with open_resources(settings) as res:
        async def broken(*, keys: list[str], args: list[Any]) -> Any:
            raise RedisConnectionError("connection refused")

        res.enqueuer._script = broken
        with pytest.raises(ServiceUnavailable, match="Redis unavailable"):
            await res.enqueuer.enqueue(NOOP, {"n": 1})
    [row] = runs(db)
    assert (row.status, row.error_type, row.error_message) == ("failed", "EnqueueFailed", "connection refused")
    assert row.finished_at is not None


async def test_a_batch_of_several_chunks_inserts_two_at_a_time_and_fails_the_rest_on_redis_loss(
        settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enqueue_module, "PIPELINE_CHUNK", 3)
    async with open_resources(settings) as res:
        ids = await res.enqueuer.enqueue_many([EnqueueRequest(NOOP, {"n": i}) for i in range(10)])
        assert len(ids) == 10
        assert rsync.zcard(queue_key(NOOP.queue)) == 10
        real_script, calls = res.enqueuer._script, 0

        async def second_fails(*, keys: list[str], args: list[Any]) -> Any:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise RedisConnectionError("gone")
            return await real_script(keys=keys, args=args)

        res.enqueuer._script = second_fails
        with pytest.raises(ServiceUnavailable):
            await res.enqueuer.enqueue_many([EnqueueRequest(NOOP, {"m": i}) for i in range(9)])
    later = runs(db)[10:]
    assert len(later) == 9
    queued = {r.arq_job_id for r in later if r.status == "queued"}
    assert len(queued) == 3, "the chunk pushed before Redis failed keeps its rows"
    assert [r.error_type for r in later if r.status != "queued"] == ["EnqueueFailed"] * 6
    in_redis = {m.decode() for m in cast("list[bytes]", rsync.zrange(queue_key(NOOP.queue), 0, -1))}
    assert len(in_redis) == 13
    assert queued <= in_redis


async def test_lone_enqueues_reuse_the_kept_connection_and_a_dead_one_is_replaced_unnoticed(
        settings: Settings, db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    """The kept connection serves one enqueue after another (no pool round trip); when the database
    ended it while idle (a restart, an idle timeout), the check before use replaces it and the
    enqueue goes through."""
    from sqlalchemy import text

    from core.queues import pg_ledger

    async with open_resources(settings) as res:
        writer = res.enqueuer._pg
        assert writer is not None
        await res.enqueuer.enqueue(NOOP, {"n": 1})
        kept = writer._kept
        assert kept is not None
        first_pid = kept.info.backend_pid
        await res.enqueuer.enqueue(NOOP, {"n": 2})
        assert writer._kept is kept, "a lone enqueue runs on the kept connection"
        with db() as session, session.begin():
            assert session.execute(text("select pg_terminate_backend(:pid)"), {"pid": first_pid}).scalar()
        monkeypatch.setattr(pg_ledger, "CHECK_IDLE_S", 0.0)  # it has been idle "long enough" to be checked
        assert await res.enqueuer.enqueue(NOOP, {"n": 3}) is not None
        assert writer._kept is not None
        assert writer._kept.info.backend_pid != first_pid
    assert [r.status for r in runs(db)] == ["queued"] * 3


async def test_statements_meeting_a_busy_kept_connection_take_a_pooled_one(settings: Settings,
                                                                          db: sessionmaker[Session]) -> None:
    import asyncio

    async with open_resources(settings) as res:
        ids = await asyncio.gather(*(res.enqueuer.enqueue(NOOP, {"n": i}) for i in range(6)))
        writer = res.enqueuer._pg
        assert writer is not None
        assert not writer._kept_busy
        stats = writer._pool.get_stats()
        assert stats["requests_num"] >= 2, "the enqueues the kept connection could not take went to the pool"
        assert stats["pool_size"] <= 2, "the kept connection counts in POOL_SIZE"
    assert sorted(r.arq_job_id for r in runs(db)) == sorted(str(i) for i in ids)


async def test_the_enqueue_script_runs_on_the_own_lane_and_concurrent_pushes_on_pooled_ones(
        settings: Settings, rsync: redis_sync.Redis) -> None:
    import asyncio

    async with open_resources(settings) as res:
        enqueuer = res.enqueuer
        await enqueuer.enqueue(NOOP, {"n": 0})
        lane = enqueuer._lane
        assert lane is not None, "the first push opened the own lane"
        assert not lane.closed
        lane_id = await lane.call(b"CLIENT", b"ID")
        pooled: list[int] = []
        on_pool = enqueuer._on_pool

        async def counting(*, keys: list[str], args: list[Any]) -> Any:
            pooled.append(1)
            return await on_pool(keys=keys, args=args)

        enqueuer._on_pool = counting  # type: ignore[assignment]
        ids = await asyncio.gather(*(enqueuer.enqueue(NOOP, {"n": i}) for i in range(1, 6)))
        assert enqueuer._lane is lane
        assert await lane.call(b"CLIENT", b"ID") == lane_id
        assert len(set(ids)) == 5
        assert len(pooled) <= 4, "the lane took at least one of them"
        enqueuer._own_busy = True  # as while another push is on the lane
        before = len(pooled)
        assert await enqueuer.enqueue(NOOP, {"n": 6}) is not None
        enqueuer._own_busy = False
        assert len(pooled) == before + 1, "a push meeting a busy lane goes through redis-py's pool"
    assert rsync.zcard(queue_key(NOOP.queue)) == 7
    assert enqueuer._lane is None, "closed with the enqueuer"
    assert lane.closed


async def test_the_own_lane_closed_by_the_server_while_idle_is_replaced_unnoticed(
        settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A Redis restart (here: the server closing that one connection) while the enqueuer sat idle: the
    next enqueue goes through (its jobs would have failed on the dead socket)."""
    async with open_resources(settings) as res:
        enqueuer = res.enqueuer
        await enqueuer.enqueue(NOOP, {"n": 1})
        assert enqueuer._lane is not None
        own_id = await enqueuer._lane.call(b"CLIENT", b"ID")
        assert rsync.client_kill_filter(_id=own_id) == 1  # the sync client: no turn of our event loop
        monkeypatch.setattr(enqueue_module, "OWN_CHECK_IDLE_S", 0.0)  # idle "long enough" to be checked
        assert await enqueuer.enqueue(NOOP, {"n": 2}) is not None
        assert await enqueuer._lane.call(b"CLIENT", b"ID") != own_id
    assert [r.status for r in runs(db)] == ["queued", "queued"]
    assert rsync.zcard(queue_key(NOOP.queue)) == 2


async def test_the_own_lane_loads_the_script_again_after_a_script_flush(
        settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis) -> None:
    """A flushed (or restarted, empty) Redis answers NOSCRIPT: the lane loads the script and the job
    goes in, as redis-py's Script would."""
    async with open_resources(settings) as res:
        assert await res.enqueuer.enqueue(NOOP, {"n": 1}) is not None
        rsync.script_flush()
        assert await res.enqueuer.enqueue(NOOP, {"n": 2}) is not None
    assert [r.status for r in runs(db)] == ["queued", "queued"]
    assert rsync.zcard(queue_key(NOOP.queue)) == 2


async def test_the_single_row_insert_without_on_conflict_reports_a_duplicate_as_not_written(
        settings: Settings, db: sessionmaker[Session]) -> None:
    """A lone enqueue with a generated id leaves ON CONFLICT out; should that id ever exist already,
    the unique violation answers "0 rows written" (the job is held, nothing stored changes) and the
    writer goes on serving enqueues."""
    from datetime import UTC, datetime

    import psycopg

    async with open_resources(settings) as res:
        writer = res.enqueuer._pg
        assert writer is not None
        first = await res.enqueuer.enqueue(NOOP, {"n": 1})
        assert first is not None
        assert "ON CONFLICT" not in enqueue_module._PG_INSERT_ONE
        assert "ON CONFLICT" in enqueue_module._PG_INSERT_ONE_KEYED
        again = enqueue_module._job_values(EnqueueRequest(NOOP, {"n": 2}), first, None)
        params = enqueue_module._pg_params_one(again, datetime.now(UTC))
        with pytest.raises(psycopg.errors.UniqueViolation):
            await writer.affected(enqueue_module._PG_INSERT_ONE, params)
        assert await writer.affected(enqueue_module._PG_INSERT_ONE, params, conflict_writes_nothing=True) == 0
        assert await res.enqueuer.enqueue(NOOP, {"n": 3}) is not None
        assert await res.enqueuer.enqueue(NOOP, {"n": 4}, job_id=first) is None, "a given id: ON CONFLICT holds it"
    rows = runs(db)
    assert len(rows) == 2
    assert next(r for r in rows if r.arq_job_id == first).args_redacted == {"n": 1}, "the stored row is unchanged"
