"""``core.db.dialect.insert_ignoring`` (``INSERT … ON CONFLICT DO NOTHING`` in each dialect's SQLAlchemy
construct), through its busiest caller: the payload entries ``read_payloads`` stores. The same batches
must leave the same rows and the same watermark on both databases; an entry already stored, or given
twice in one batch, is skipped and keeps its first copy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.cpi import MessageStoreEntry
from core.db.models.message_details import PayloadEntry
from core.db.models.tenants import Tenant
from core.db.session import create_db_engine, make_session_factory
from functions.ingestion.payloads import PAYLOADS, _save_entries
from functions.ingestion.watermarks import read_watermark

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LONG_ID = "x" * 300


def _entry(entry_id: str, guid: str | None, store: str | None = "S1", minute: int = 0,
           attachments: bool | None = False) -> MessageStoreEntry:
    return MessageStoreEntry(entry_id, guid, store, T0 + timedelta(minutes=minute), attachments)


def _snapshot(sessions: sessionmaker[Session], tenant_id: int) -> tuple[list[tuple[Any, ...]], datetime | None]:
    with sessions() as session:
        rows = [(e.entry_id, e.message_guid, e.message_store_id, e.timestamp, e.has_attachments, e.object_key,
                 e.fetched_at, e.stored_at is not None)
                for e in session.scalars(select(PayloadEntry).where(PayloadEntry.tenant_id == tenant_id)
                                         .order_by(PayloadEntry.entry_id))]
        return rows, read_watermark(session, tenant_id, PAYLOADS).position


def _scenario(url: str) -> list[tuple[list[tuple[Any, ...]], datetime | None]]:
    engine = create_db_engine(url)
    try:
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            session.add_all([Tenant(id=tid, name=f"t{tid}", api_url="http://x", client_id="c",
                                    client_secret_encrypted="x") for tid in (1, 2)])
        states = []
        _save_entries(sessions, 1, [_entry("e1", "G1"), _entry("e2", "G1", None, 1, None),
                                    _entry(LONG_ID, None, "S2", 2, True)], T0 + timedelta(hours=1))
        states.append(_snapshot(sessions, 1))
        # e2 again with other values, e3 twice in one batch, the long id again, e1 for another tenant;
        # an older position does not move the watermark back
        _save_entries(sessions, 1, [_entry("e2", "G9", "S9", 9, True), _entry("e3", "G2", minute=3),
                                    _entry("e3", "G3", "S3", 4), _entry(LONG_ID + "tail", "G4")], T0)
        _save_entries(sessions, 2, [_entry("e1", "G1")], None)
        _save_entries(sessions, 1, [], T0 + timedelta(hours=2))  # nothing found: only the watermark moves
        states.append(_snapshot(sessions, 1))
        states.append(_snapshot(sessions, 2))
        return states
    finally:
        engine.dispose()


def test_same_entries_and_duplicates_ignored_on_both_databases(database_urls: dict[str, str]) -> None:
    pg, lite = (_scenario(database_urls[name]) for name in ("postgresql", "sqlite"))
    assert pg == lite
    (first, first_mark), (second, second_mark), (other, other_mark) = pg
    assert [r[:5] for r in first] == [("e1", "G1", "S1", T0, False),
                                      ("e2", "G1", None, T0 + timedelta(minutes=1), False),
                                      ("x" * 255, "", "S2", T0 + timedelta(minutes=2), True)]
    assert first_mark == T0 + timedelta(hours=1)
    assert [r[:3] for r in second] == [("e1", "G1", "S1"), ("e2", "G1", None), ("e3", "G2", "S1"),
                                       ("x" * 255, "", "S2")]  # first copies kept
    assert second_mark == T0 + timedelta(hours=2)
    assert [r[:2] for r in other] == [("e1", "G1")]
    assert other_mark is None
    assert all(r[5] is None and r[6] is None and r[7] for r in first + second + other)
