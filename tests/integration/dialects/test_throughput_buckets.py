"""The throughput chart's time bucket forks (PostgreSQL ``extract(epoch)``, SQLite ``strftime('%s')``):
the same finished runs must fall into the same buckets with the same counts on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from admin_api.metrics.history import duration_percentiles, throughput
from admin_api.metrics.schemas import QueueDurations, ThroughputPoint
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.session import create_db_engine, make_session_factory


def _scenario(url: str, now: datetime) -> tuple[list[ThroughputPoint], list[QueueDurations]]:
    engine = create_db_engine(url)
    try:
        sessions = make_session_factory(engine)
        since = now - timedelta(minutes=10)
        with sessions() as session, session.begin():
            for i, (minutes_ago, second, status) in enumerate([
                    (3, 5, "succeeded"), (3, 59, "failed"), (3, 0, "dead"), (2, 30, "succeeded"),
                    (1, 1, "succeeded"), (1, 58, "cancelled"), (20, 0, "succeeded")]):
                finished = now - timedelta(minutes=minutes_ago) + timedelta(seconds=second)
                session.add(WorkerJobRun(arq_job_id=f"tp-{i}", queue="fast" if i % 2 else "periodic_run",
                                         function="noop", status=status, enqueued_at=finished - timedelta(seconds=9),
                                         finished_at=finished, duration_ms=100 * (i + 1)))
        with Session(engine) as session:
            return throughput(session, since, 60, None), duration_percentiles(session, since)
    finally:
        engine.dispose()


def test_same_buckets_and_percentiles_on_both_databases(database_urls: dict[str, str]) -> None:
    now = utcnow().replace(second=0, microsecond=0)  # one minute boundary for both runs
    pg, lite = (_scenario(database_urls[name], now) for name in ("postgresql", "sqlite"))
    assert pg == lite
    points, durations = pg
    assert [(p.completed, p.failed) for p in points] == [(3, 2), (1, 0), (1, 0)]
    assert sum(d.finished for d in durations) == 5
