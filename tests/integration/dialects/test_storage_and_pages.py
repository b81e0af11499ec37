"""Two PostgreSQL-only steps that must not change what the other database reports or stores:

- storage snapshots (``functions/platform/storage.py``): PostgreSQL adds sizes (``pg_total_relation_size``,
  ``pg_class`` estimates), SQLite has none; the deep snapshot's row counts are exact on both and equal;
- message log pages (``functions/ingestion/pages.py`` ``store_logs``): PostgreSQL commits refetchable pages with
  ``synchronous_commit = off``, SQLite commits normally; the rows, changes and watermark are the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.cpi.models import MessageLog as CpiLog
from core.db.models import Base
from core.db.models.messages import MessageLog
from core.db.models.tenants import Tenant
from core.db.session import create_db_engine, make_session_factory
from functions.ingestion.pages import store_logs
from functions.ingestion.watermarks import read_watermark
from functions.platform.storage import deep_sizes, quick_sizes

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
# the tables this scenario writes (others differ by set-up: the PostgreSQL test database is emptied after
# migrating, and stats_dirty holds one mark per statement on PostgreSQL, one per row on SQLite)
WRITTEN = ("message_log", "ingest_watermark", "tenant")


def _log(i: int, status: str = "COMPLETED") -> CpiLog:
    return CpiLog(message_guid=f"G{i:04d}", status=status, log_start=T0, log_end=T0 + timedelta(seconds=i),
                  iflow_id="FlowA", package_id="Pkg")


def _scenario(url: str) -> dict[str, Any]:
    engine = create_db_engine(url)
    try:
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            session.add(Tenant(id=1, name="t1", api_url="http://x", client_id="c", client_secret_encrypted="x"))
        results = [store_logs(sessions, 1, [_log(i) for i in range(30)], "logs"),
                   store_logs(sessions, 1, [_log(i, "FAILED") for i in range(25, 40)], "logs", refetchable=False),
                   store_logs(sessions, 1, [_log(5)], "logs")]  # unchanged and older: nothing moves
        with sessions() as session:
            rows = sorted((m.message_guid, m.status, m.log_end) for m in session.scalars(select(MessageLog)))
            mark = read_watermark(session, 1, "logs").position
            deep, quick = deep_sizes(session), quick_sizes(session)
        return {"results": [(r.received, sorted(r.changed)) for r in results], "rows": rows, "mark": mark,
                "counts": {name: rows_ for name, (rows_, _) in deep.items() if name in WRITTEN},
                "sized": {name for name, (_, size) in deep.items() if size is not None},
                "quick": set(quick)}
    finally:
        engine.dispose()


def test_same_rows_and_counts_on_both_databases(database_urls: dict[str, str]) -> None:
    pg, lite = (_scenario(database_urls[name]) for name in ("postgresql", "sqlite"))
    tables = set(Base.metadata.tables)
    for key in ("results", "rows", "mark", "counts"):
        assert pg[key] == lite[key], key
    assert [(n, len(changed)) for n, changed in pg["results"]] == [(30, 30), (15, 15), (1, 0)]
    assert len(pg["rows"]) == 40
    assert pg["mark"] == T0 + timedelta(seconds=39)
    assert pg["counts"] == {"message_log": 40, "ingest_watermark": 1, "tenant": 1}
    assert pg["sized"] == tables | {"database"}  # PostgreSQL: bytes for every table and the database
    assert lite["sized"] == set()  # SQLite: no sizes
    assert lite["quick"] == tables
    assert pg["quick"] <= tables
