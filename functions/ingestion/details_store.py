"""Database side of message details: the sweep's work list and the replace-as-a-set write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from core.cpi.models import AdapterAttribute, MplAttachment
from core.db.models.base import utcnow
from core.db.models.message_details import MessageAdapterAttribute, MessageAttachment
from core.db.models.messages import DETAILS_PENDING_SQL, MessageLog

__all__ = ["HOT_HORIZON", "FetchedDetails", "pending_for_details", "save_details", "statuses_of"]

HOT_HORIZON = timedelta(hours=24)  # younger failed messages are the hot sweep's, older the cold sweep's


@dataclass(slots=True)
class FetchedDetails:
    """What CPI returned for one message (``gone``: CPI no longer knows it)."""

    guid: str
    error_text: str | None = None
    attachments: list[MplAttachment] = field(default_factory=list)
    adapter_attributes: list[AdapterAttribute] = field(default_factory=list)
    gone: bool = False


def pending_for_details(sessions: sessionmaker[Session], tenant_id: int, hot: bool, limit: int,
                        now: datetime | None = None) -> list[tuple[str, str, str | None]]:
    """(guid, status, correlation id) of failed messages without details, newest first."""
    edge = (now or utcnow()) - HOT_HORIZON
    age = MessageLog.log_end >= edge if hot else MessageLog.log_end < edge
    query = (select(MessageLog.message_guid, MessageLog.status, MessageLog.correlation_id)
             .where(MessageLog.tenant_id == tenant_id, text(DETAILS_PENDING_SQL), age)
             .order_by(MessageLog.log_end.desc()).limit(limit))
    with sessions() as session:
        return [(g, s, c) for g, s, c in session.execute(query)]


def statuses_of(sessions: sessionmaker[Session], tenant_id: int, guids: list[str]) -> dict[str, tuple[str, str | None]]:
    """Stored status and correlation id of the given messages (missing ones are absent)."""
    query = select(MessageLog.message_guid, MessageLog.status, MessageLog.correlation_id).where(
        MessageLog.tenant_id == tenant_id, MessageLog.message_guid.in_(guids))
    with sessions() as session:
        return {g: (s, c) for g, s, c in session.execute(query)}


def save_details(sessions: sessionmaker[Session], tenant_id: int, fetched: list[FetchedDetails]) -> int:
    """Replace attachments and adapter attributes of each message and set its error text, in one
    transaction; ``details_fetched_at`` marks the message done for the sweep."""
    if not fetched:
        return 0
    now = utcnow()
    guids = [f.guid for f in fetched]
    with sessions() as session, session.begin():
        for model in (MessageAttachment, MessageAdapterAttribute):
            session.execute(delete(model).where(model.tenant_id == tenant_id, model.message_guid.in_(guids)))
        attachments = [{"tenant_id": tenant_id, "message_guid": f.guid, "attachment_id": a.id[:255],
                        "name": a.name, "content_type": a.content_type, "payload_size": a.payload_size,
                        "timestamp": a.timestamp} for f in fetched for a in f.attachments]
        attributes = [{"tenant_id": tenant_id, "message_guid": f.guid, "adapter_id": a.adapter_id,
                       "adapter_message_id": a.adapter_message_id, "name": a.name or "", "value": a.value}
                      for f in fetched for a in f.adapter_attributes]
        if attachments:
            session.execute(insert(MessageAttachment), _unique_attachments(attachments))
        if attributes:
            session.execute(insert(MessageAdapterAttribute), attributes)
        for f in fetched:
            session.execute(update(MessageLog)
                            .where(MessageLog.tenant_id == tenant_id, MessageLog.message_guid == f.guid)
                            .values(error_text=f.error_text, details_fetched_at=now))
    return len(fetched)


def _unique_attachments(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An attachment id is unique per tenant; keep the first if CPI lists one twice."""
    seen: dict[Any, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row["attachment_id"], row)
    return list(seen.values())
