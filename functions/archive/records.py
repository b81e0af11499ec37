"""One archived message = one JSON line: the message log's columns plus its detail rows.

Columns are read from the models, so a column added to a message table is archived and restored
without touching this module. Datetimes travel as ISO strings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Column, ColumnElement, String, any_, literal, select
from sqlalchemy.orm import Session

from core.db.dialect import is_postgres
from core.db.models.base import UtcDateTime
from core.db.models.message_details import MessageAdapterAttribute, MessageAttachment, MessageCustomHeader, PayloadEntry
from core.db.models.messages import MessageLog

__all__ = ["DETAIL_MODELS", "detail_values", "details_for", "guid_in", "log_values", "to_record"]

DETAIL_MODELS: dict[str, Any] = {
    "attachments": MessageAttachment,
    "adapter_attributes": MessageAdapterAttribute,
    "custom_headers": MessageCustomHeader,
    "payload_entries": PayloadEntry,
}
_SKIP = {"id", "tenant_id"}


def _columns(model: Any) -> list[Column[Any]]:
    return [c for c in model.__table__.columns if c.name not in _SKIP]


def _dump(model: Any, row: Any) -> dict[str, Any]:
    """JSON-able dict of a Core row (``row._mapping``) of ``model``'s table."""
    mapping = row._mapping
    out: dict[str, Any] = {}
    for column in _columns(model):
        value = mapping[column]
        out[column.name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _load(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in _columns(model):
        if column.name not in data:
            continue
        value = data[column.name]
        if isinstance(column.type, UtcDateTime) and isinstance(value, str):
            value = datetime.fromisoformat(value)
        values[column.key] = value
    return values


def guid_in(session: Session, column: Any, guids: list[str]) -> ColumnElement[bool]:
    """``column IN guids``; on PostgreSQL one array parameter (``= ANY``), which stays fast for thousands."""
    if is_postgres(session):
        return column == any_(literal(guids, ARRAY(String)))  # type: ignore[no-any-return]
    return column.in_(guids)  # type: ignore[no-any-return]


def details_for(session: Session, tenant_id: int, guids: list[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """guid -> {detail kind -> rows} for a batch of messages."""
    found: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for kind, model in DETAIL_MODELS.items():
        table = model.__table__
        query = select(table).where(table.c.tenant_id == tenant_id, guid_in(session, table.c.message_guid, guids))
        query = query.order_by(table.c.id)
        for row in session.execute(query):
            found[row.message_guid][kind].append(_dump(model, row))
    return found


def to_record(log: Any, details: dict[str, list[dict[str, Any]]] | None) -> dict[str, Any]:
    """The JSON line of one message (``log`` is a Core row of ``message_log``)."""
    record = _dump(MessageLog, log)
    record["details"] = {kind: list((details or {}).get(kind, [])) for kind in DETAIL_MODELS}
    return record


def log_values(record: dict[str, Any], tenant_id: int) -> dict[str, Any]:
    """Insert values of the message log row in ``record``."""
    return {**_load(MessageLog, record), "tenant_id": tenant_id}


def detail_values(record: dict[str, Any], tenant_id: int) -> Iterable[tuple[Any, dict[str, Any]]]:
    """(model, insert values) for each detail row in ``record``."""
    for kind, model in DETAIL_MODELS.items():
        for row in record.get("details", {}).get(kind, []):
            yield model, {**_load(model, row), "tenant_id": tenant_id}
