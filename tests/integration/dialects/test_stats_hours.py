"""Incremental stats fork three times: the dirty-hour triggers of migration 1001 (PL/pgSQL vs SQLite triggers),
the epoch arithmetic of ``functions/stats/buckets.py`` (``extract(epoch)`` vs ``julianday`` / ``strftime``) and
the watermark row's ``insert_ignoring``. The same message log writes must mark the same hours and build the
same hour and day cells on both databases: hour boundaries, the last millisecond of an hour, logs without
LogEnd, a LogEnd moved across midnight, status and iflow changes.

Times carry milliseconds, as CPI sends them. A sub-millisecond time can fall into different hours: SQLite keeps
times as whole milliseconds, so it rounds ``09:59:59.9996`` up to 10:00 where PostgreSQL floors it to 9:00
(both in the triggers and in ``_hour_of``, so each database stays consistent with itself); see
``docs/dialects.md``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.cpi.models import MessageLog as CpiLog
from core.db.models.stats import StatsBucket, StatsDirty
from core.db.models.tenants import Tenant
from core.db.session import create_db_engine, make_session_factory
from functions.ingestion.upsert import upsert_message_logs
from functions.stats.buckets import update_tenant

MIDNIGHT = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)


def _log(guid: str, end: datetime | None, start: datetime, status: str = "COMPLETED", flow: str = "FlowA") -> CpiLog:
    return CpiLog(message_guid=guid, status=status, log_start=start, log_end=end, iflow_id=flow, package_id="Pkg")


FIRST = [
    _log("on-the-hour", MIDNIGHT + timedelta(hours=10), MIDNIGHT + timedelta(hours=9, minutes=59)),
    _log("just-before", MIDNIGHT + timedelta(hours=10, milliseconds=-1), MIDNIGHT + timedelta(hours=9, minutes=58)),
    _log("ms", MIDNIGHT + timedelta(hours=10, minutes=5, milliseconds=1),
         MIDNIGHT + timedelta(hours=10, minutes=4, milliseconds=999), "FAILED"),
    _log("no-end", None, MIDNIGHT + timedelta(hours=11, minutes=30)),
    _log("late", MIDNIGHT + timedelta(hours=23, minutes=59, seconds=59, microseconds=999_000),
         MIDNIGHT + timedelta(hours=23, minutes=59)),
    *(_log(f"bulk-{i}", MIDNIGHT + timedelta(hours=10, minutes=i), MIDNIGHT + timedelta(hours=10, seconds=i),
           "FAILED" if i % 4 == 0 else "COMPLETED") for i in range(20)),
]
SECOND = [
    _log("late", MIDNIGHT + timedelta(days=1, hours=0, minutes=1), MIDNIGHT + timedelta(hours=23, minutes=59)),
    _log("ms", MIDNIGHT + timedelta(hours=10, minutes=5, milliseconds=1),
         MIDNIGHT + timedelta(hours=10, minutes=4, milliseconds=999), "COMPLETED"),
    _log("bulk-3", MIDNIGHT + timedelta(hours=10, minutes=3), MIDNIGHT + timedelta(hours=10, seconds=3), flow="FlowB"),
    _log("on-the-hour", MIDNIGHT + timedelta(hours=10), MIDNIGHT + timedelta(hours=9, minutes=59)),  # unchanged
]


def _state(sessions: sessionmaker[Session]) -> dict[str, Any]:
    with sessions() as session:
        # the hours marked (PostgreSQL's triggers write each hour once per statement, SQLite's once per row)
        dirty = sorted(set(session.scalars(select(StatsDirty.hour).where(StatsDirty.tenant_id == 1))))
    with sessions.begin() as session:
        update_tenant(session, 1)
    with sessions() as session:
        cells = sorted((c.granularity, c.bucket_start, c.package_id, c.iflow_id, c.status, c.message_count,
                        c.failed_count, round(c.failure_rate, 6), c.p50_ms, c.p95_ms)
                       for c in session.scalars(select(StatsBucket).where(StatsBucket.tenant_id == 1)))
    return {"dirty": dirty, "cells": cells}


def _scenario(url: str) -> list[dict[str, Any]]:
    engine = create_db_engine(url)
    try:
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            session.add(Tenant(id=1, name="t1", api_url="http://x", client_id="c", client_secret_encrypted="x"))
        states = []
        for batch in (FIRST, SECOND):
            with sessions.begin() as session:
                upsert_message_logs(session, 1, batch)
            states.append(_state(sessions))
        return states
    finally:
        engine.dispose()


def test_same_dirty_hours_and_cells_on_both_databases(database_urls: dict[str, str]) -> None:
    pg, lite = (_scenario(database_urls[name]) for name in ("postgresql", "sqlite"))
    assert pg == lite
    first, second = pg
    hour0 = int(MIDNIGHT.timestamp()) // 3600
    assert first["dirty"] == [hour0 + 9, hour0 + 10, hour0 + 11, hour0 + 23]
    assert second["dirty"] == [hour0 + 10, hour0 + 23, hour0 + 24]  # old and new hour of "late"
    hours = {c[1]: c for c in first["cells"] if c[0] == "hour" and c[3:5] == ("*", "*")}
    assert [hours[MIDNIGHT + timedelta(hours=h)][5] for h in (9, 10, 11, 23)] == [1, 22, 1, 1]
    assert any(c[0] == "day" and c[1] == MIDNIGHT + timedelta(days=1) for c in second["cells"])
