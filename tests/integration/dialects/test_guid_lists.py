"""``functions.archive.records.guid_in`` forks (PostgreSQL: ``= ANY(array)``, one parameter; SQLite: ``IN (…)``,
one parameter per GUID). The same GUID lists must select the same rows on both databases: empty, one,
repeats and unknowns, awkward characters, and lists as long as the archive's chunks (``BATCH``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.message_details import PayloadEntry
from core.db.models.messages import MessageLog
from core.db.models.tenants import Tenant
from core.db.session import create_db_engine, make_session_factory
from functions.archive.export import BATCH
from functions.archive.records import details_for, guid_in

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
GUIDS = [f"G{i:05d}" for i in range(BATCH + 300)]
ODD = ["it's", 'dq"uote', "per%cent", "under_score", "ünïcode", "comma,brace}{", "", " lead"]
LISTS: dict[str, list[str]] = {
    "empty": [],
    "one": ["G00007"],
    "repeats and unknowns": ["G00007", "G00007", "nope", "G00008", "g00008"],
    "awkward characters": [*ODD, "%", "_", "G0000_"],
    "a whole chunk": GUIDS[:BATCH],
    "a chunk ending past the stored ones": GUIDS[-BATCH // 2:] + [f"missing-{i}" for i in range(BATCH // 2)],
}


def _selections(sessions: sessionmaker[Session]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with sessions() as session:
        for name, guids in LISTS.items():
            logs = sorted(session.scalars(select(MessageLog.message_guid).where(  # sorted here: collations differ
                MessageLog.tenant_id == 1, guid_in(session, MessageLog.message_guid, guids))))
            count = session.scalar(select(func.count()).select_from(MessageLog).where(
                guid_in(session, MessageLog.message_guid, guids)))
            details = {guid: {kind: [r["entry_id"] for r in rows] for kind, rows in found.items()}
                       for guid, found in details_for(session, 1, guids).items()}
            out[name] = (logs, count, details)
    with sessions.begin() as session:  # the archive's prune deletes with the same predicate
        pruned = session.execute(delete(MessageLog).where(
            MessageLog.tenant_id == 1, guid_in(session, MessageLog.message_guid, LISTS["repeats and unknowns"])))
        out["pruned"] = pruned.rowcount  # type: ignore[attr-defined]
    return out


def _scenario(url: str) -> dict[str, Any]:
    engine = create_db_engine(url)
    try:
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            session.add_all([Tenant(id=tid, name=f"t{tid}", api_url="http://x", client_id="c",
                                    client_secret_encrypted="x") for tid in (1, 2)])
            session.flush()
            session.execute(insert(MessageLog), [
                {"tenant_id": 1, "message_guid": guid, "status": "COMPLETED", "log_end": T0, "extra": {}}
                for guid in GUIDS + ODD] + [
                {"tenant_id": 2, "message_guid": "G00007", "status": "FAILED", "log_end": T0, "extra": {}}])
            session.execute(insert(PayloadEntry), [
                {"tenant_id": tid, "entry_id": f"{tid}-{guid}", "message_guid": guid, "stored_at": T0}
                for tid, guid in ((1, "G00007"), (1, "it's"), (1, GUIDS[-1]), (2, "G00008"))])
        return _selections(sessions)
    finally:
        engine.dispose()


def test_same_selection_on_both_databases(database_urls: dict[str, str]) -> None:
    pg, lite = (_scenario(database_urls[name]) for name in ("postgresql", "sqlite"))
    assert pg == lite
    assert pg["empty"] == ([], 0, {})
    assert pg["one"] == (["G00007"], 2, {"G00007": {"payload_entries": ["1-G00007"]}})
    assert pg["repeats and unknowns"][:2] == (["G00007", "G00008"], 3)
    assert pg["awkward characters"][0] == sorted(ODD)
    assert pg["awkward characters"][2] == {"it's": {"payload_entries": ["1-it's"]}}
    assert pg["a whole chunk"][:2] == (GUIDS[:BATCH], BATCH + 1)
    assert pg["a chunk ending past the stored ones"][0] == GUIDS[-BATCH // 2:]
    assert pg["a chunk ending past the stored ones"][2] == {GUIDS[-1]: {"payload_entries": [f"1-{GUIDS[-1]}"]}}
    assert pg["pruned"] == 2
