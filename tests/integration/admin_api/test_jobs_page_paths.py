"""The jobs list has two paths: PostgreSQL builds the page as JSON in SQL (``PgLedgerPages``), other
databases go through the ORM (``search_runs``). Both must answer the same ``RunPage`` for the same rows:
the PostgreSQL bytes are decoded strictly into the struct the OpenAPI document publishes, and compared
with the ORM path on PostgreSQL and on a migrated SQLite file holding the same rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from sqlalchemy.orm import Session, sessionmaker

from admin_api.jobs.pg_pages import PgLedgerPages
from admin_api.jobs.queries import decode_cursor, search_runs
from admin_api.jobs.schemas import RunFilter, RunPage
from core.db.migrate import upgrade
from core.db.models.ledger import WorkerJobRun
from core.db.session import create_db_engine, make_session_factory

T0 = datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=UTC)
STATUSES = ("queued", "running", "succeeded", "failed", "dead", "retrying", "cancelled", "skipped")


def _rows() -> list[WorkerJobRun]:
    """Varied rows: shared enqueue times (the id breaks ties), NULLs, microseconds, a replay link."""
    rows = []
    for i in range(1, 14):
        status = STATUSES[i % len(STATUSES)]
        enqueued = T0 + timedelta(seconds=(i // 2) * 7)  # pairs share a time: the id orders them
        finished = enqueued + timedelta(milliseconds=250 * i) if status in ("succeeded", "failed", "dead") else None
        rows.append(WorkerJobRun(
            id=i, arq_job_id=f"job-{i}", queue="fast" if i % 3 else "periodic_run", function="noop",
            tenant_id=(i % 4) or None, status=status, attempt=i % 3, max_attempts=3, enqueued_at=enqueued,
            started_at=enqueued + timedelta(seconds=1) if status != "queued" else None, finished_at=finished,
            duration_ms=250 * i if finished else None, worker_id=f"w{i % 2}" if status != "queued" else None,
            error_type="Boom" if status in ("failed", "dead") else None, replay_of_id=i - 1 if i in (5, 9) else None,
            args_redacted={"n": i}))
    return rows


def _store(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        for row in _rows():
            session.add(row)
            session.flush()  # in id order: replay_of_id points at an existing row


@pytest.fixture
def sqlite_sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    yield make_session_factory(engine)
    engine.dispose()


FILTERS = [
    RunFilter(limit=5),
    RunFilter(limit=50),
    RunFilter(statuses=("failed",), limit=2),
    RunFilter(statuses=("failed", "dead", "succeeded")),
    RunFilter(queue="periodic_run"),
    RunFilter(tenant_id=2, limit=1),
    RunFilter(since=T0 + timedelta(seconds=14), until=T0 + timedelta(seconds=35), limit=3),
]


def _orm_page(sessions: sessionmaker[Session], flt: RunFilter) -> RunPage:
    with sessions() as session:
        items, cursor = search_runs(session, flt)
    return RunPage(items=items, next_cursor=cursor)


def _same(pg: RunPage, orm: RunPage) -> None:
    assert pg.items == orm.items
    assert (pg.next_cursor is None) == (orm.next_cursor is None)
    if pg.next_cursor is not None and orm.next_cursor is not None:  # same position, however the time is spelt
        assert decode_cursor(pg.next_cursor) == decode_cursor(orm.next_cursor)


async def test_postgresql_json_page_decodes_into_run_page_and_matches_both_orm_paths(
        db: sessionmaker[Session], pg_url: str, sqlite_sessions: sessionmaker[Session]) -> None:
    _store(db)
    _store(sqlite_sessions)
    pages = PgLedgerPages("postgresql://" + pg_url.split("://", 1)[1], size=1)
    await pages.open()
    try:
        for flt in FILTERS:
            walked = 0
            current: RunFilter | None = flt
            while current is not None:  # follow every page of the filter, on each path
                body = await pages.page(current)
                pg = msgspec.json.decode(body, type=RunPage, strict=True)
                _same(pg, _orm_page(db, current))
                _same(pg, _orm_page(sqlite_sessions, current))
                walked += len(pg.items)
                current = (replace(current, cursor=decode_cursor(pg.next_cursor))
                           if pg.next_cursor is not None else None)
            assert walked == len(_orm_page(db, replace(flt, limit=500)).items)
        every = msgspec.json.decode(await pages.page(RunFilter(limit=100)), type=RunPage, strict=True)
    finally:
        await pages.close()
    assert [i.id for i in every.items] == list(range(13, 0, -1))  # newest first, ties broken by id
    assert {i.status for i in every.items} == set(STATUSES)
    by_id = {i.id: i for i in every.items}
    assert by_id[8].started_at is None
    assert by_id[5].replay_of_id == 4
    assert by_id[4].tenant_id is None
