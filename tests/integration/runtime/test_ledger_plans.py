"""The worker's ledger batch is planned as per-job index lookups even while statistics lag.

Right after a burst of enqueues into a fresh ledger (here: 5,000 queued runs into just-truncated
tables, nothing analyzed yet) the planner's statistics say the tables are nearly empty. Planned on
those, a 10-job batch once scanned every queued run (the partial dedup index, or the whole table)
and the whole attempt table for each batch: 17 ms of server time instead of 1.5 (see
core/ledger/recorder.py). The plan is read with EXPLAIN (no timing involved).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy.orm import Session, sessionmaker

from core.db.session import psycopg_dsn
from core.ledger.recorder import AttemptRecord, _psycopg_query, pg_batch_statement
from core.ledger.states import RunStatus
from core.queues.catalog import NOOP
from core.queues.enqueue import _PG_INSERT, EnqueueRequest, _job_values, _pg_params


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


def test_a_small_batch_looks_up_its_jobs_by_id_after_a_burst(pg_url: str, db: sessionmaker[Session]) -> None:
    del db  # the fixture empties the ledger (TRUNCATE: no statistics at all)
    now = datetime.now(UTC)
    ids = [os.urandom(16).hex() for _ in range(5000)]
    with psycopg.connect(psycopg_dsn(pg_url), autocommit=True) as conn:
        for start in range(0, len(ids), 2500):
            values = [_job_values(EnqueueRequest(NOOP, {}), job_id, None) for job_id in ids[start:start + 2500]]
            conn.execute(_PG_INSERT.encode(), _pg_params(values, now))
        ends = []
        for job_id in ids[:10]:
            record = AttemptRecord(job_id, 1, "w1", now, run_status=RunStatus.SUCCEEDED,
                                   finished_at=now + timedelta(milliseconds=2), duration_ms=2)
            ends.append(record)
        statement = pg_batch_statement([], ends, ends, now)
        assert statement is not None
        sql, params = statement
        row = conn.execute(b"EXPLAIN (FORMAT JSON) " + _psycopg_query(sql), params).fetchone()
        assert row is not None
        plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
        nodes = _nodes(plan[0]["Plan"])
        scanned = {(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes}
        ledger = ("worker_job_run", "worker_job_attempt")
        assert not [s for s in scanned if s[0] == "Seq Scan" and s[1] in ledger], scanned
        assert not [s for s in scanned if s[2] == "uq_worker_job_run_active_dedup"], scanned
        assert [s for s in scanned if s[2] == "uq_worker_job_run_arq_job_id"], scanned  # looked up by job id
        conn.execute(_psycopg_query(sql), params)  # and it does what it says: the ten runs end
        done = conn.execute("SELECT count(*) FROM worker_job_run WHERE status = 'succeeded'").fetchone()
        attempts = conn.execute("SELECT count(*) FROM worker_job_attempt").fetchone()
    assert done == (10,)
    assert attempts == (10,)
