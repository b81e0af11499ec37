"""stats_update_t: hourly/daily aggregates, roll-ups, percentiles and incremental updates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.cpi.models import MessageLog as CpiLog
from core.db.migrate import upgrade
from core.db.models.base import utcnow
from core.db.models.messages import MessageLog
from core.db.models.stats import StatsBucket, StatsDirty, StatsWatermark
from core.db.session import create_db_engine, make_session_factory
from core.errors import PermanentJobError
from functions.ingestion.upsert import upsert_message_logs
from functions.runner.context import JobContext
from functions.stats.buckets import update_tenant
from functions.stats.jobs import stats_update_t
from functions.stats.verify import compare
from tests.integration.families.conftest import add_logs, add_tenant

H10 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _cell(
    db: sessionmaker[Session], gran: str, start: datetime, pkg: str = "*", flow: str = "*", status: str = "*"
) -> StatsBucket | None:
    with db() as s:
        return s.scalar(
            select(StatsBucket).where(
                StatsBucket.granularity == gran,
                StatsBucket.bucket_start == start,
                StatsBucket.package_id == pkg,
                StatsBucket.iflow_id == flow,
                StatsBucket.status == status,
            )
        )


async def test_hourly_and_daily_cells_with_rollups(
    db: sessionmaker[Session], tenant_id: int, job_ctx: Callable[..., JobContext]
) -> None:
    specs: list[dict[str, Any]] = [
        {"log_end": H10 + timedelta(minutes=5), "duration_ms": ms} for ms in (100, 200, 300, 400)
    ]
    specs += [{"log_end": H10 + timedelta(minutes=7), "status": "FAILED", "duration_ms": 1000}]
    specs += [
        {
            "log_end": H10 + timedelta(hours=2),
            "iflow_id": "FlowB",
            "package_id": "PkgB",
            "status": "ESCALATED",
            "duration_ms": 50,
        }
    ]
    add_logs(db, tenant_id, specs)

    result = await stats_update_t(job_ctx("stats_update_t"))
    assert result == {"tenants": 1, "hours": 2, "days": 1, "rows_scanned": 6}  # the day is read once

    flow_a = _cell(db, "hour", H10, "PkgA", "FlowA")
    assert flow_a is not None
    assert (flow_a.message_count, flow_a.failed_count) == (5, 1)
    assert flow_a.failure_rate == 0.2
    assert flow_a.p50_ms == 300.0
    assert flow_a.p95_ms == pytest.approx(880.0)  # interpolated between 400 and 1000
    failed_a = _cell(db, "hour", H10, "PkgA", "FlowA", "FAILED")
    assert failed_a is not None
    assert failed_a.message_count == 1
    day = _cell(db, "day", datetime(2026, 11, 20, tzinfo=UTC))
    assert day is not None
    assert (day.message_count, day.failed_count) == (6, 2)
    pkg_b = _cell(db, "day", datetime(2026, 11, 20, tzinfo=UTC), "PkgB")
    assert pkg_b is not None
    assert pkg_b.failure_rate == 1.0


async def test_incremental_rebuilds_only_touched_buckets(
    db: sessionmaker[Session], tenant_id: int, job_ctx: Callable[..., JobContext]
) -> None:
    old = utcnow() - timedelta(hours=1)
    add_logs(
        db,
        tenant_id,
        [
            {"log_end": H10, "stored_at": old},
            {"log_end": H10 + timedelta(hours=5), "stored_at": old - timedelta(minutes=10)},
        ],
    )
    await stats_update_t(job_ctx("stats_update_t"))
    with db() as s:
        mark = s.get(StatsWatermark, tenant_id)
        assert mark is not None
        assert mark.position is not None

    add_logs(db, tenant_id, [{"log_end": H10 + timedelta(minutes=30), "status": "FAILED"}])
    second = await stats_update_t(job_ctx("stats_update_t"), tenant_id=tenant_id)
    assert (second["hours"], second["days"]) == (1, 1)
    cell = _cell(db, "hour", H10)
    assert cell is not None
    assert (cell.message_count, cell.failed_count) == (2, 1)
    untouched = _cell(db, "hour", H10 + timedelta(hours=5))
    assert untouched is not None
    assert untouched.message_count == 1

    nothing = await stats_update_t(job_ctx("stats_update_t"), tenant_id=tenant_id)
    assert (nothing["hours"], nothing["days"]) == (0, 0)  # nothing changed: nothing is rebuilt

    with db.begin() as s:  # any status change is marked by the trigger, whoever writes it
        s.execute(update(MessageLog).where(MessageLog.status == "FAILED").values(status="COMPLETED"))
    await stats_update_t(job_ctx("stats_update_t"), tenant_id=tenant_id)
    cell = _cell(db, "hour", H10)
    assert cell is not None
    assert cell.failed_count == 0


async def test_unknown_tenant_is_permanent(db: sessionmaker[Session], job_ctx: Callable[..., JobContext]) -> None:
    with pytest.raises(PermanentJobError, match="tenant 99"):
        await stats_update_t(job_ctx("stats_update_t"), tenant_id=99)


def test_same_cells_on_sqlite(tmp_path: Path) -> None:
    """The embedded SQLite database computes durations and hour offsets its own way; results must match."""
    url = f"sqlite:///{tmp_path / 'stats.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    sessions = make_session_factory(engine)
    try:
        tid = add_tenant(sessions)
        add_logs(
            sessions,
            tid,
            [
                {
                    "log_end": H10 + timedelta(minutes=m),
                    "duration_ms": ms,
                    "status": "FAILED" if ms == 1000 else "COMPLETED",
                }
                for m, ms in ((5, 100), (6, 200), (7, 300), (8, 400), (9, 1000))
            ],
        )
        with sessions.begin() as s:
            assert update_tenant(s, tid).hours == 1
        cell = _cell(sessions, "hour", H10, "PkgA", "FlowA")
        assert cell is not None
        assert (cell.message_count, cell.failed_count, cell.p50_ms) == (5, 1, cast(float, pytest.approx(300.0)))
        assert cell.p95_ms == pytest.approx(880.0)

        # The SQLite triggers mark the old and the new hour of a moved LogEnd, like PostgreSQL's.
        with sessions.begin() as s:
            upsert_message_logs(s, tid, [CpiLog(message_guid="S1", status="RETRY", log_start=H10,
                                                log_end=H10 + timedelta(minutes=1), iflow_id="FlowA")])
        with sessions.begin() as s:
            update_tenant(s, tid)
        with sessions.begin() as s:
            upsert_message_logs(s, tid, [CpiLog(message_guid="S1", status="FAILED", log_start=H10,
                                                log_end=H10 + timedelta(hours=26), iflow_id="FlowA")])
        with sessions.begin() as s:
            assert update_tenant(s, tid).hours == 2
        with sessions() as s:
            assert compare(s, tid) == []
    finally:
        engine.dispose()


async def test_full_pass_keeps_pruned_days_and_empties_deserted_hours(
    db: sessionmaker[Session], tenant_id: int, job_ctx: Callable[..., JobContext]
) -> None:
    """The one full pass after migration 1001 (no stats_watermark row): days whose logs were pruned keep
    their cells, and an hour all of whose messages moved away before the marks existed is emptied."""
    day1, day2 = H10 - timedelta(days=1), H10
    pruned, _, moved = add_logs(db, tenant_id, [{"log_end": day1}, {"log_end": day2},
                                                {"log_end": day2 + timedelta(hours=5)}])
    await stats_update_t(job_ctx("stats_update_t"), tenant_id=tenant_id)
    with db.begin() as s:  # prune day 1, move a message, then forget the marks as if written before 1001
        s.execute(delete(MessageLog).where(MessageLog.message_guid == pruned))
        s.execute(update(MessageLog).where(MessageLog.message_guid == moved)
                  .values(log_end=day2 + timedelta(hours=7)))
        s.execute(delete(StatsDirty))
        s.execute(delete(StatsWatermark))

    await stats_update_t(job_ctx("stats_update_t"), tenant_id=tenant_id)

    kept = _cell(db, "day", day1.replace(hour=0))
    assert kept is not None
    assert kept.message_count == 1  # stats outlive the pruned logs
    assert _cell(db, "hour", day2 + timedelta(hours=5)) is None
    hour7 = _cell(db, "hour", day2 + timedelta(hours=7))
    assert hour7 is not None
    assert hour7.message_count == 1
    with db() as s:
        wrong = compare(s, tenant_id)
    assert {(w[0], w[1]) for w in wrong} == {("hour", day1), ("day", day1.replace(hour=0))}  # only the pruned day
