"""The bulk upsert on real PostgreSQL and on SQLite (migrated): stored once, changes detected,
status changes reset details, and the watermark commits with the rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.cpi.models import MessageLog as CpiLog
from core.db.migrate import upgrade
from core.db.models.messages import MessageLog
from core.db.models.tenants import Tenant
from core.db.session import create_db_engine, make_session_factory
from functions.ingestion.upsert import upsert_message_logs
from functions.ingestion.watermarks import read_watermark, write_watermark

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def cpi_log(i: int, status: str = "COMPLETED", end_shift_ms: int = 0) -> CpiLog:
    end = T0 + timedelta(milliseconds=i * 10 + end_shift_ms)
    return CpiLog.from_entity(
        {
            "MessageGuid": f"G{i:08d}",
            "Status": status,
            "CorrelationId": f"C{i // 3}",
            "LogStart": f"/Date({int((end - timedelta(seconds=1)).timestamp() * 1000)})/",
            "LogEnd": f"/Date({int(end.timestamp() * 1000)})/",
            "IntegrationArtifact": {
                "Id": "OrderSync",
                "Name": "Order Sync",
                "Type": "INTEGRATION_FLOW",
                "PackageId": "Sales",
                "PackageName": "Sales",
            },
            "ArchivingLogAttachments": "false",
            "TransactionId": "ab" * 16,
        }
    )


@pytest.fixture(params=["postgresql", "sqlite"])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> sessionmaker[Session]:
    if request.param == "postgresql":
        factory: sessionmaker[Session] = request.getfixturevalue("db")
    else:
        url = f"sqlite:///{tmp_path / 'u.db'}"
        upgrade(url)
        engine = create_db_engine(url)
        factory = make_session_factory(engine)
    with factory() as session, session.begin():
        session.add(Tenant(id=1, name="t1", api_url="http://x", client_id="c", client_secret_encrypted="x"))
    return factory


def count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(MessageLog)) or 0)


def test_rows_stored_once_and_rerun_changes_nothing(sessions: sessionmaker[Session]) -> None:
    logs = [cpi_log(i) for i in range(1500)]
    with sessions() as session, session.begin():
        first = upsert_message_logs(session, 1, logs)
    with sessions() as session, session.begin():
        again = upsert_message_logs(session, 1, logs + logs[:10])
    assert len(first.changed) == 1500
    assert again.changed == []
    assert count(sessions) == 1500
    with sessions() as session:
        row = session.scalars(select(MessageLog).where(MessageLog.message_guid == "G00000007")).one()
    assert (row.iflow_id, row.package_id, row.correlation_id) == ("OrderSync", "Sales", "C2")
    assert row.log_end == T0 + timedelta(milliseconds=70)
    assert row.extra["archiving_log_attachments"] is False


def test_status_change_is_updated_and_resets_details(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        upsert_message_logs(session, 1, [cpi_log(1, "RETRY"), cpi_log(2)])
        session.query(MessageLog).update({MessageLog.details_fetched_at: T0, MessageLog.error_text: "old",
                                          MessageLog.stored_at: T0})
    with sessions() as session, session.begin():
        result = upsert_message_logs(session, 1, [cpi_log(1, "FAILED", end_shift_ms=500), cpi_log(2)])
    assert result.changed == [("G00000001", "FAILED")]
    with sessions() as session:
        rows = {r.message_guid: r for r in session.scalars(select(MessageLog))}
    assert rows["G00000001"].status == "FAILED"
    assert rows["G00000001"].details_fetched_at is None
    assert rows["G00000002"].details_fetched_at == T0
    assert rows["G00000001"].stored_at > T0  # changed rows look new to the incremental stats
    assert rows["G00000002"].stored_at == T0  # unchanged rows are not rewritten


def test_duplicate_guid_in_one_batch_keeps_latest(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        upsert_message_logs(session, 1, [cpi_log(5, "PROCESSING"), cpi_log(5, "COMPLETED", end_shift_ms=9)])
    with sessions() as session:
        assert session.scalars(select(MessageLog.status)).all() == ["COMPLETED"]


def test_watermark_rolls_back_with_rows(sessions: sessionmaker[Session]) -> None:
    def crash_before_commit() -> None:
        with sessions() as session, session.begin():
            upsert_message_logs(session, 1, [cpi_log(1)])
            write_watermark(session, 1, "hot", T0)
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        crash_before_commit()
    with sessions() as session:
        assert read_watermark(session, 1, "hot").position is None
    assert count(sessions) == 0


def test_monotonic_watermark_never_rewinds(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        write_watermark(session, 1, "hot", T0, {"a": 1}, monotonic=True)
    with sessions() as session, session.begin():
        mark = write_watermark(session, 1, "hot", T0 - timedelta(hours=1), monotonic=True)
    assert mark.position == T0
    with sessions() as session, session.begin():
        mark = write_watermark(session, 1, "cold", T0 - timedelta(days=1), {"until": "x"})
    with sessions() as session:
        assert read_watermark(session, 1, "cold").cursor == {"until": "x"}
        assert read_watermark(session, 1, "hot").position == T0
