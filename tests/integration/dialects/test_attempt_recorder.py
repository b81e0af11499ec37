"""The workers' ledger recorder forks (PostgreSQL: each batch is ONE statement of data-modifying CTEs on its own
async psycopg connection; SQLite: executemany steps in one transaction). The same attempt starts and ends
must leave the same runs, attempts and outbox events on both databases, and hand back the same ``after``
values once committed: starts, successes, retries, a merged start+end, a lost earlier attempt, a terminal
run that must not be overwritten, a job the ledger does not know, and a batch repeated after a lost
acknowledgement. An ending's event goes out once, with the ending the ledger took: not again for the
repeated batch, not for the terminal run's late ending, not for the unknown job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from core.db.models.ledger import WorkerJobAttempt, WorkerJobRun
from core.db.models.outbox import OutboxEvent
from core.db.session import create_db_engine
from core.ledger.recorder import AttemptRecord, LedgerRecorder
from core.ledger.states import RunStatus

T0 = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _end(r: AttemptRecord, status: RunStatus, seconds: float, after: str, **values: Any) -> AttemptRecord:
    """Fill in the ending of ``r`` as a worker does (the same object when its start was queued)."""
    r.run_status, r.finished_at, r.duration_ms, r.after = status, _at(seconds), int(seconds * 1000), after
    for name, value in values.items():
        setattr(r, name, value)
    return r


async def _write(recorder: LedgerRecorder, starts: list[AttemptRecord], ends: list[AttemptRecord]) -> None:
    for r in starts:
        recorder.started(r)
    for r in ends:
        recorder.finished(r)
    await recorder.run()  # closing: writes what is queued, then returns


def _snapshot(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        runs = [(r.arq_job_id, r.status, r.attempt, r.worker_id, r.started_at, r.finished_at, r.duration_ms,
                 r.error_type, r.error_message, r.result_summary, r.next_attempt_at)
                for r in session.scalars(select(WorkerJobRun).order_by(WorkerJobRun.arq_job_id))]
        # a lost attempt ends at the writer's clock, which differs between the two runs: only its presence counts
        attempts = [(a.arq_job_id, a.attempt, a.worker_id, a.status, a.started_at,
                     a.finished_at is not None if a.status == "lost" else a.finished_at, a.duration_ms,
                     a.error_type, a.error_message)
                    for a in session.scalars(select(WorkerJobAttempt)
                                             .order_by(WorkerJobAttempt.arq_job_id, WorkerJobAttempt.attempt))]
        events = sorted((e.routing_key, sorted(e.payload.items())) for e in session.scalars(select(OutboxEvent)))
    return {"runs": runs, "attempts": attempts, "events": events}


async def _scenario(url: str) -> list[Any]:
    engine = create_db_engine(url)
    afters: list[list[Any]] = []

    async def committed(values: list[Any]) -> None:
        afters.append(values)

    recorder = LedgerRecorder(url, 0.0, committed, engine=lambda: engine)
    recorder.request_close()
    try:
        with engine.begin() as conn:
            conn.execute(insert(WorkerJobRun), [
                {"arq_job_id": job, "queue": "periodic_run", "function": "noop", "status": status, "attempt": 0,
                 "max_attempts": 3, "enqueued_at": T0, "updated_at": T0}
                for job, status in (("ok", "queued"), ("retry", "queued"), ("lost", "queued"), ("merged", "queued"),
                                    ("done", "succeeded"))])
        ok, retry, lost = (AttemptRecord(job, 1, "w1", _at(1)) for job in ("ok", "retry", "lost"))
        await _write(recorder, [ok, retry, lost], [])
        states = [_snapshot(engine)]
        lost_again = AttemptRecord("lost", 2, "w2", _at(30))  # w1 vanished; w2 claimed the job again
        ends = [
            _end(ok, RunStatus.SUCCEEDED, 2, "after-ok", result_summary={"n": 1, "names": ["a", "ü"]}),
            _end(retry, RunStatus.RETRYING, 3, "after-retry", error_type="Boom", error_message="it's 'quoted'",
                 next_attempt_at=_at(60)),
            _end(lost_again, RunStatus.SUCCEEDED, 31, "after-lost"),
            _end(AttemptRecord("merged", 1, "w2", _at(4)), RunStatus.DEAD, 5, "after-merged",
                 error_type="Fatal", error_message="no", event=("run.dead", {"job_id": "merged", "attempt": 1})),
            _end(AttemptRecord("done", 1, "w2", _at(6)), RunStatus.FAILED, 7, "after-done",  # terminal: kept
                 event=("run.failed", {"job_id": "done", "attempt": 1})),
            _end(AttemptRecord("unknown", 1, "w2", _at(8)), RunStatus.DEAD, 9, "after-unknown",
                 event=("run.dead", {"job_id": "unknown", "attempt": 1})),
        ]
        await _write(recorder, [lost_again], ends)
        states.append(_snapshot(engine))
        await _write(recorder, [], [_end(AttemptRecord("merged", 1, "w2", _at(4)), RunStatus.DEAD, 5, "again",
                                         error_type="Fatal", error_message="no",
                                         event=("run.dead", {"job_id": "merged", "attempt": 1}))])  # a repeated commit
        states.append(_snapshot(engine))
        return [states, afters]
    finally:
        await recorder.release()
        engine.dispose()


async def test_same_runs_attempts_and_events_on_both_databases(database_urls: dict[str, str]) -> None:
    pg = await _scenario(database_urls["postgresql"])
    lite = await _scenario(database_urls["sqlite"])
    assert pg == lite
    (started, ended, repeated), afters = pg
    assert [r[1:4] for r in started["runs"]] == [
        ("succeeded", 0, None), ("running", 1, "w1"), ("queued", 0, None), ("running", 1, "w1"), ("running", 1, "w1")]
    assert [a[:4] for a in started["attempts"]] == [("lost", 1, "w1", "running"), ("ok", 1, "w1", "running"),
                                                    ("retry", 1, "w1", "running")]
    runs = {r[0]: r for r in ended["runs"]}
    assert runs["ok"][1:3] + runs["ok"][9:10] == ("succeeded", 1, {"n": 1, "names": ["a", "ü"]})
    assert runs["retry"][1:2] + runs["retry"][7:] == ("retrying", "Boom", "it's 'quoted'", None, _at(60))
    assert runs["lost"][1:4] == ("succeeded", 2, "w2")
    assert runs["merged"][1:2] + runs["merged"][7:9] == ("dead", "Fatal", "no")
    assert runs["done"][1:3] == ("succeeded", 0)
    assert "unknown" not in runs
    assert [a[:4] for a in ended["attempts"]] == [
        ("done", 1, "w2", "failed"), ("lost", 1, "w1", "lost"), ("lost", 2, "w2", "succeeded"),
        ("merged", 1, "w2", "failed"), ("ok", 1, "w1", "succeeded"), ("retry", 1, "w1", "failed")]
    assert ended["events"] == [("run.dead", [("attempt", 1), ("job_id", "merged")])]
    assert repeated == ended
    assert afters == [["after-ok", "after-retry", "after-lost", "after-merged", "after-done", "after-unknown"],
                      ["again"]]
