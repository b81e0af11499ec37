"""The controller's generic upsert forks (PostgreSQL: one statement over unnest'ed arrays; SQLite: chunked
ORM ``on_conflict_do_update``). The same batches must leave the same rows on both: inserts, updates of
only the named columns on a key conflict, JSON and NULL values, batches larger than the SQLite chunk,
and the same refusal of a batch that names one key twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controller import sql
from controller.sql import upsert
from core.db.models.controller import WorkerProcess
from core.db.session import create_db_engine, make_session_factory

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
UPDATED = ["queues", "running", "last_seen", "status"]  # group_name, host, pid, concurrency, started_at: insert only


def _row(worker: str, minute: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"worker_id": worker, "group_name": "g1", "queues": ["fast"], "host": "h1", "pid": 10,
                           "concurrency": 4, "running": [], "started_at": T0,
                           "last_seen": T0 + timedelta(minutes=minute), "status": "live", "gone_at": None}
    return {**row, **values}


def _snapshot(sessions: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with sessions() as session:
        return [(w.worker_id, w.group_name, w.queues, w.host, w.pid, w.concurrency, w.running, w.started_at,
                 w.last_seen, w.status, w.gone_at)
                for w in session.scalars(select(WorkerProcess).order_by(WorkerProcess.worker_id))]


def _scenario(url: str) -> list[list[tuple[Any, ...]]]:
    engine = create_db_engine(url)
    try:
        sessions = make_session_factory(engine)
        states = []
        with sessions.begin() as session:  # insert; an empty batch is a no-op
            upsert(session, WorkerProcess, [], ["worker_id"], UPDATED)
            upsert(session, WorkerProcess, [_row("w1", 0), _row("w2", 0, host=None, pid=None, queues=[])],
                   ["worker_id"], UPDATED)
        states.append(_snapshot(sessions))
        with sessions.begin() as session:  # conflict on w1 and w2, new w3: only UPDATED columns change
            upsert(session, WorkerProcess, [
                _row("w1", 1, group_name="other", host="h9", pid=99, running=["job-a", "job-b"],
                     queues=["fast", "slow"], started_at=T0 + timedelta(hours=1)),
                _row("w2", 1, status="gone", queues=["ünïcode", 'q"uote']),
                _row("w3", 1, concurrency=8),
            ], ["worker_id"], UPDATED)
        states.append(_snapshot(sessions))
        with sessions.begin() as session:  # more rows than one SQLite statement takes, one of them a conflict
            upsert(session, WorkerProcess, [_row(f"bulk-{i:05d}", 2, pid=i) for i in range(sql.CHUNK + 500)]
                   + [_row("w3", 2, running=["job-c"])], ["worker_id"], UPDATED)
        states.append(_snapshot(sessions))
        return states
    finally:
        engine.dispose()


def test_same_rows_after_insert_update_and_conflict_on_both_databases(database_urls: dict[str, str]) -> None:
    pg, lite = (_scenario(database_urls[name]) for name in ("postgresql", "sqlite"))
    assert pg == lite
    inserted, updated, bulk = pg
    assert [r[0] for r in inserted] == ["w1", "w2"]
    assert inserted[1][2:5] == ([], None, None)
    w1, w2, w3 = updated
    assert w1[1:6] == ("g1", ["fast", "slow"], "h1", 10, 4)  # group, host, pid, concurrency: kept
    assert (w1[6], w1[7], w1[8]) == (["job-a", "job-b"], T0, T0 + timedelta(minutes=1))  # started_at kept
    assert (w2[2], w2[3], w2[9]) == (["ünïcode", 'q"uote'], None, "gone")
    assert (w3[0], w3[5]) == ("w3", 8)
    assert len(bulk) == 3 + sql.CHUNK + 500
    assert bulk[-1][:1] + bulk[-1][6:7] == ("w3", ["job-c"])


@pytest.mark.parametrize("name", ["postgresql", "sqlite"])
def test_a_key_named_twice_in_one_batch_is_refused_on_both(database_urls: dict[str, str], name: str) -> None:
    """PostgreSQL cannot update one row twice in a statement; SQLite would silently keep the last copy.
    Both refuse the batch before writing, so the outcome never depends on the database."""
    engine = create_db_engine(database_urls[name])
    try:
        sessions = make_session_factory(engine)
        with pytest.raises(ValueError, match="w1"), sessions.begin() as session:
            upsert(session, WorkerProcess, [_row("w1", 0), _row("w2", 0), _row("w1", 1)], ["worker_id"], UPDATED)
        assert _snapshot(sessions) == []
    finally:
        engine.dispose()
