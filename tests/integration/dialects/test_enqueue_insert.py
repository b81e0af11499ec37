"""Enqueue's ledger insert forks (PostgreSQL: one unnest statement; SQLite: ORM insert ... on conflict do
nothing). The same requests must leave the same ledger rows and refuse the same repeats on both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.queues.catalog import FUNCTIONS
from core.queues.enqueue import EnqueueRequest
from core.resources import open_resources
from tests.integration.dialects.conftest import settings_for


async def _scenario(url: str, redis_url: str, folder: Path) -> tuple[list[bool], list[tuple[Any, ...]]]:
    noop = FUNCTIONS["noop"]
    async with open_resources(settings_for(url, redis_url, folder)) as resources:
        enqueuer = resources.enqueuer
        first = await enqueuer.enqueue_many([
            EnqueueRequest(noop, {}),
            EnqueueRequest(noop, {"n": 1, "password": "hunter2"}, tenant_id=7),
            EnqueueRequest(noop, {"n": 2}, dedup_key="contract-d1", defer_s=600),
            EnqueueRequest(noop, {"n": 3}, job_id=f"contract-fixed-{folder.name}"),
        ])
        repeats = [
            await enqueuer.enqueue(noop, {"n": 2}, dedup_key="contract-d1"),  # an unfinished run holds the key
            await enqueuer.enqueue(noop, {"n": 3}, job_id=f"contract-fixed-{folder.name}"),  # same job id
            await enqueuer.enqueue(noop, {"n": 4}, dedup_key="contract-d2"),  # a new key is fine
        ]
        with resources.sessions() as session:
            rows = [(r.queue, r.function, r.tenant_id, r.args_redacted, r.dedup_key, r.status, r.attempt,
                     r.max_attempts, r.replay_of_id, r.arq_job_id.startswith("contract-fixed-"),
                     r.enqueued_at is not None)
                    for r in session.scalars(select(WorkerJobRun).order_by(WorkerJobRun.id))]
    return [len(first) == 4] + [job is not None for job in repeats], rows


async def test_same_ledger_rows_and_refusals_on_both_databases(
        database_urls: dict[str, str], redis_url: str, tmp_path: Path) -> None:
    outcomes = {name: await _scenario(url, redis_url, tmp_path / name) for name, url in database_urls.items()}
    assert outcomes["postgresql"] == outcomes["sqlite"]
    accepted, rows = outcomes["postgresql"]
    assert accepted == [True, False, False, True]
    assert len(rows) == 5
    assert {r[5] for r in rows} == {"queued"}
    assert rows[1][2] == 7
    assert rows[1][3]["password"] != "hunter2"
    assert [r[4] for r in rows] == [None, None, "contract-d1", None, "contract-d2"]


def test_both_inserts_write_the_same_columns() -> None:
    """The PostgreSQL statement names its columns in SQL text; they must be the SQLite path's row keys."""
    from core.queues import enqueue

    sql = enqueue._PG_INSERT
    named = sql[sql.index("worker_job_run (") + len("worker_job_run ("):sql.index(")")]
    pg_columns = {c.strip() for c in named.split(",")}
    enqueuer = enqueue.Enqueuer.__new__(enqueue.Enqueuer)
    enqueuer._seal = None
    row = enqueuer._row(EnqueueRequest(FUNCTIONS["noop"], {}), "job-x", utcnow())
    assert pg_columns == set(row)
    assert pg_columns <= set(WorkerJobRun.__table__.c.keys())
