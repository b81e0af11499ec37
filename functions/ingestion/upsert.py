"""The durable bulk upsert of message logs: one statement per batch, on (tenant_id, message_guid).

PostgreSQL gets the whole batch as ONE JSON text parameter and expands it server-side with
``json_to_recordset`` (a single round trip; encoding is C-speed ``json.dumps``, far cheaper than
binding per-column arrays or per-row statements from Python); SQLite gets multi-row VALUES.
Both use ``ON CONFLICT DO UPDATE`` that only touches rows whose content changed, so re-reading
an overlap window writes nothing, and ``RETURNING`` tells the caller which rows are new or
changed (those may need details).
A status change clears ``details_fetched_at``, so a message that turned FAILED gets its details.

Stats: the statement fires the ``message_log`` triggers of migration 1001, which record the old and the
new stats hour of every inserted row and of every row whose LogEnd, LogStart, status, iflow or package
changed into ``stats_dirty`` -- in this same transaction, so the marks commit (or roll back) with the
rows. ``package_id`` is compared like the other columns so a package change is written (and marked).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, case, or_, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from core.cpi.models import MessageLog as CpiMessageLog
from core.db.dialect import is_postgres
from core.db.models.base import utcnow
from core.db.models.messages import MessageLog
from functions.ingestion.rows import ROW_COLUMNS, dedupe_latest, log_to_row

__all__ = ["UpsertResult", "upsert_message_logs"]

_COMPARED = ("status", "custom_status", "log_start", "log_end", "correlation_id", "application_message_id",
             "iflow_id", "package_id", "log_level", "extra")
_PG_TYPES = {"log_start": "timestamptz", "log_end": "timestamptz", "extra": "jsonb"}
_SQLITE_CHUNK = 400  # 15 columns x 400 rows stays far below SQLite's bound-variable limit


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """How many rows the batch had, and the (guid, status) of rows that were new or changed."""

    received: int
    changed: list[tuple[str, str]]


def _pg_sql() -> str:
    cols = ", ".join(ROW_COLUMNS)
    record = ", ".join(f"{c} {_PG_TYPES.get(c, 'varchar')}" for c in ROW_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in ROW_COLUMNS if c != "message_guid")
    old = ", ".join(f"message_log.{c}" for c in _COMPARED)
    new = ", ".join(f"excluded.{c}" for c in _COMPARED)
    return (
        f"INSERT INTO message_log (tenant_id, {cols}, stored_at) "
        f"SELECT :tenant_id, {cols}, now() FROM json_to_recordset(CAST(:rows AS json)) AS s({record}) "
        f"ON CONFLICT (tenant_id, message_guid) DO UPDATE SET {updates}, stored_at = now(), "
        "details_fetched_at = CASE WHEN message_log.status = excluded.status "
        "THEN message_log.details_fetched_at END "
        f"WHERE ({old}) IS DISTINCT FROM ({new}) "
        "RETURNING message_guid, status"
    )


_PG_UPSERT = text(_pg_sql())


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} for the upsert")


def _upsert_pg(session: Session, tenant_id: int, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    payload = json.dumps(rows, separators=(",", ":"), default=_json_default)
    return [(guid, status) for guid, status in session.execute(_PG_UPSERT, {"tenant_id": tenant_id, "rows": payload})]


def _upsert_sqlite(session: Session, tenant_id: int, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    table: Table = MessageLog.__table__  # type: ignore[assignment]
    changed: list[tuple[str, str]] = []
    now = utcnow()
    for start in range(0, len(rows), _SQLITE_CHUNK):
        chunk = [{**row, "tenant_id": tenant_id, "stored_at": now} for row in rows[start:start + _SQLITE_CHUNK]]
        stmt = sqlite.insert(table).values(chunk)
        excluded = stmt.excluded
        updates: dict[str, Any] = {c: excluded[c] for c in ROW_COLUMNS if c != "message_guid"}
        updates["stored_at"] = excluded.stored_at
        updates["details_fetched_at"] = case(
            (table.c.status == excluded.status, table.c.details_fetched_at), else_=None)
        upsert = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "message_guid"], set_=updates,
            where=or_(*(table.c[c].is_distinct_from(excluded[c]) for c in _COMPARED)),
        ).returning(table.c.message_guid, table.c.status)
        changed.extend((guid, status) for guid, status in session.execute(upsert))
    return changed


def upsert_message_logs(session: Session, tenant_id: int, logs: Sequence[CpiMessageLog]) -> UpsertResult:
    """Upsert ``logs`` inside the caller's transaction (the caller commits, with its watermark)."""
    unique = dedupe_latest(logs)
    if not unique:
        return UpsertResult(received=len(logs), changed=[])
    rows = [log_to_row(log) for log in unique]
    upsert_rows = _upsert_pg if is_postgres(session) else _upsert_sqlite
    changed = upsert_rows(session, tenant_id, rows)
    return UpsertResult(received=len(logs), changed=changed)
