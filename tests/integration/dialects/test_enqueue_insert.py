"""Enqueue's ledger insert forks (PostgreSQL: one unnest statement; SQLite: ORM insert ... on conflict do
nothing), both derived from ``core.queues.enqueue._LEDGER_ROW``. The same requests must leave the same
ledger rows, column by column, and refuse the same repeats on both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.db.models.ledger import WorkerJobRun
from core.queues.catalog import FUNCTIONS
from core.queues.enqueue import EnqueueRequest
from core.resources import open_resources
from tests.integration.dialects.conftest import settings_for


async def _scenario(url: str, redis_url: str, folder: Path) -> tuple[list[bool], list[tuple[Any, ...]]]:
    noop, sleep = FUNCTIONS["noop"], FUNCTIONS["sleep"]
    async with open_resources(settings_for(url, redis_url, folder)) as resources:
        enqueuer = resources.enqueuer
        first = await enqueuer.enqueue_many([
            EnqueueRequest(noop, {}),
            EnqueueRequest(noop, {"n": 1, "password": "hunter2"}, tenant_id=7),
            EnqueueRequest(noop, {"n": 2}, dedup_key="contract-d1", defer_s=600),
            EnqueueRequest(sleep, {"seconds": 3}, job_id=f"contract-fixed-{folder.name}"),
        ])
        with resources.sessions() as session:
            first_run = session.scalars(select(WorkerJobRun.id).order_by(WorkerJobRun.id)).first()
        repeats = [
            await enqueuer.enqueue(noop, {"n": 2}, dedup_key="contract-d1"),  # an unfinished run holds the key
            await enqueuer.enqueue(noop, {"n": 3}, job_id=f"contract-fixed-{folder.name}"),  # same job id
            await enqueuer.enqueue(noop, {"n": 4}, dedup_key="contract-d2", replay_of_id=first_run),  # new key
        ]
        with resources.sessions() as session:
            rows = [(r.queue, r.function, r.tenant_id, r.args_redacted, r.dedup_key, r.status, r.attempt,
                     r.max_attempts, r.replay_of_id is not None and r.replay_of_id == first_run,
                     r.arq_job_id.startswith("contract-fixed-"), r.args_sealed is not None,
                     r.enqueued_at is not None and r.enqueued_at == r.updated_at)
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
    # every column lands where it belongs (both paths are built from one column definition)
    assert [(r[0], r[1]) for r in rows] == [("periodic_run", "noop")] * 3 + [("periodic_run", "sleep"),
                                                                            ("periodic_run", "noop")]
    assert [r[6] for r in rows] == [0] * 5
    assert [r[7] for r in rows] == [1, 1, 1, FUNCTIONS["sleep"].retry.max_attempts, 1]
    assert [r[3] for r in rows][3] == {"seconds": 3}
    assert [r[8] for r in rows] == [False, False, False, False, True]
    assert [r[9] for r in rows] == [False, False, False, True, False]
    assert [r[10] for r in rows] == [False, True, False, False, False]  # only the password needs sealing
    assert all(r[11] for r in rows)

