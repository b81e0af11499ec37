"""The single-job ledger INSERT through libpq (core.queues.pg_prepared): the row it writes is the row
the psycopg path wrote, a prepared statement lost on the server is prepared again, and values of a
type it does not send go through psycopg instead. Real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from core.queues.catalog import NOOP
from core.queues.pg_prepared import dollar_placeholders, text_params
from core.resources import open_resources
from core.settings import Settings
from tests.integration.runtime.conftest import runs


def test_text_params_send_plain_types_and_refuse_the_rest() -> None:
    at = datetime(2026, 12, 2, 17, 40, 1, 250000, tzinfo=timezone(timedelta(hours=2)))
    assert text_params(["périodique", 7, None, at]) == [
        "périodique".encode(), b"7", None, b"2026-12-02T17:40:01.250000+02:00"]
    for odd in (True, 1.5, Decimal(1), datetime(2026, 12, 2), b"raw", ["x"]):
        assert text_params(["ok", odd]) is None, odd


def test_dollar_placeholders_number_the_parameters_and_refuse_a_stray_percent() -> None:
    assert dollar_placeholders("INSERT INTO t (a, b) VALUES (%s, CAST(%s AS jsonb))") == \
        "INSERT INTO t (a, b) VALUES ($1, CAST($2 AS jsonb))"
    with pytest.raises(ValueError, match="not a %s placeholder"):
        dollar_placeholders("SELECT 1 WHERE a LIKE 'x%' AND b = %s")


async def test_the_row_written_through_libpq_holds_every_value(settings: Settings, db: sessionmaker[Session]) -> None:
    before = datetime.now(UTC)
    async with open_resources(settings) as res:
        job_id = await res.enqueuer.enqueue(NOOP, {"name": "é", "n": 3, "nested": {"x": [1, None]}}, tenant_id=None)
        writer = res.enqueuer._pg
        assert writer is not None
        assert writer._kept is not None
        names = [r[0] async for r in await writer._kept.execute("select name from pg_prepared_statements")]
        assert any(name.startswith("integramon_stmt_") for name in names), "the INSERT ran prepared"
    (row,) = runs(db, arq_job_id=job_id)
    assert (row.queue, row.function, row.status, row.attempt, row.max_attempts) == (
        NOOP.queue, NOOP.name, "queued", 0, NOOP.retry.max_attempts)
    assert row.args_redacted == {"name": "é", "n": 3, "nested": {"x": [1, None]}}
    assert row.enqueued_at == row.updated_at
    assert before - timedelta(seconds=1) <= row.enqueued_at <= datetime.now(UTC)


async def test_a_prepared_statement_dropped_on_the_server_is_prepared_again(
        settings: Settings, db: sessionmaker[Session]) -> None:
    async with open_resources(settings) as res:
        assert await res.enqueuer.enqueue(NOOP, {"n": 1}) is not None
        writer = res.enqueuer._pg
        assert writer is not None
        assert writer._kept is not None
        await writer._kept.execute("DEALLOCATE ALL")  # what DISCARD ALL or a pooler would do
        assert await res.enqueuer.enqueue(NOOP, {"n": 2}) is not None
    assert [r.args_redacted for r in runs(db)] == [{"n": 1}, {"n": 2}]


async def test_a_database_error_keeps_its_class_and_the_next_enqueue_works(
        settings: Settings, db: sessionmaker[Session]) -> None:
    """A server error (here: a check violation on a column constraint added for the test) is raised
    as psycopg would raise it, and the connection goes on serving."""
    import psycopg

    with db() as session, session.begin():
        session.execute(text("ALTER TABLE worker_job_run ADD CONSTRAINT test_no_boom CHECK (dedup_key <> 'boom')"))
    try:
        async with open_resources(settings) as res:
            writer = res.enqueuer._pg
            assert writer is not None
            statement = "INSERT INTO worker_job_run (arq_job_id, queue, function, max_attempts, status, attempt, " \
                        "dedup_key, args_redacted, enqueued_at, updated_at) " \
                        "VALUES (%s, %s, %s, %s, 'queued', 0, %s, CAST(%s AS jsonb), %s, %s)"
            now = datetime.now(UTC)
            with pytest.raises(psycopg.errors.CheckViolation, match="test_no_boom"):
                await writer.affected(statement, ["j-boom", "q", "f", 1, "boom", "{}", now, now])
            assert await writer.affected(statement, ["j-fine", "q", "f", 1, "fine", "{}", now, now]) == 1
    finally:
        with db() as session, session.begin():
            session.execute(text("ALTER TABLE worker_job_run DROP CONSTRAINT test_no_boom"))
    assert [r.arq_job_id for r in runs(db)] == ["j-fine"]


async def test_a_connection_that_comes_back_with_the_statement_prepared_is_used_as_is(
        settings: Settings, db: sessionmaker[Session]) -> None:
    """The writer's kept connection replaced and later kept again: PREPARE finds the statement there."""
    async with open_resources(settings) as res:
        assert await res.enqueuer.enqueue(NOOP, {"n": 1}) is not None
        writer = res.enqueuer._pg
        assert writer is not None
        first = writer._kept
        statements = writer._statements
        statements._conn = None  # as if another connection had served in between
        assert await res.enqueuer.enqueue(NOOP, {"n": 2}) is not None
        assert writer._kept is first
    assert [r.args_redacted for r in runs(db)] == [{"n": 1}, {"n": 2}]


async def test_meanwhile_runs_once_while_the_statement_is_on_its_way_and_only_on_the_libpq_path(
        settings: Settings, db: sessionmaker[Session]) -> None:
    """A lone enqueue builds its Redis script call between sending the INSERT and reading the answer:
    the build happens before the insert returns and before the push, exactly once; a statement with
    named parameters (the psycopg path) never calls it."""
    from core.queues.enqueue import Enqueuer

    order: list[str] = []
    real_build = Enqueuer._script_call
    async with open_resources(settings) as res:
        enqueuer = res.enqueuer
        writer = enqueuer._pg
        assert writer is not None
        real_affected, real_script = writer.affected, enqueuer._script

        def build(chosen: Any, now_ms: int) -> Any:
            order.append("built")
            return real_build(chosen, now_ms)

        async def affected(*args: Any, **kwargs: Any) -> int:
            count = await real_affected(*args, **kwargs)
            order.append("inserted")
            return count

        async def script(*, keys: list[str], args: list[Any]) -> Any:
            order.append("pushed")
            return await real_script(keys=keys, args=args)

        enqueuer._script_call = build  # type: ignore[method-assign]
        writer.affected = affected  # type: ignore[method-assign]
        enqueuer._script = script
        job_id = await enqueuer.enqueue(NOOP, {"n": 1})
        assert order == ["built", "inserted", "pushed"]
        calls: list[int] = []
        assert await real_affected("SELECT %(x)s::int", {"x": 1}, meanwhile=lambda: calls.append(1)) == 1
        assert calls == [], "the psycopg path does not call meanwhile"
    (row,) = runs(db, arq_job_id=job_id)
    assert row.status == "queued"


async def test_a_script_call_that_fails_to_build_ahead_is_built_again_after_the_insert(
        settings: Settings, db: sessionmaker[Session], rsync: Any) -> None:
    """An error while building ahead is not lost or raised early: the push builds the call again."""
    from core.queues.enqueue import Enqueuer
    from core.queues.keys import queue_key

    real_build = Enqueuer._script_call
    builds: list[int] = []

    def flaky(chosen: Any, now_ms: int) -> Any:
        builds.append(now_ms)
        if len(builds) == 1:
            raise RuntimeError("first build fails")
        return real_build(chosen, now_ms)

    async with open_resources(settings) as res:
        res.enqueuer._script_call = flaky  # type: ignore[method-assign]
        job_id = await res.enqueuer.enqueue(NOOP, {"n": 1})
    assert len(builds) == 2
    assert rsync.zscore(queue_key(NOOP.queue), job_id) is not None
    (row,) = runs(db, arq_job_id=job_id)
    assert row.status == "queued"
