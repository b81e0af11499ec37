"""Stored CPI message processing logs and the per-tenant ingestion watermarks.

A message log is stored once per tenant (unique ``tenant_id, message_guid``; writers upsert), and
a watermark only advances in the same transaction that stored the rows it covers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, BigId, JsonType, UtcDateTime, utcnow

__all__ = ["DETAILS_PENDING_SQL", "IngestWatermark", "MessageLog"]

# Literal because it is baked into a partial index and its migration.
DETAILS_PENDING_SQL = "details_fetched_at IS NULL AND status IN ('FAILED', 'ESCALATED')"


class MessageLog(Base):
    """One CPI MessageProcessingLog (the fields we query on, plus the rest as JSON)."""

    __tablename__ = "message_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    message_guid: Mapped[str] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    application_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    custom_status: Mapped[str | None] = mapped_column(String(64), nullable=True)
    log_start: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    log_end: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    iflow_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    iflow_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    package_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sender: Mapped[str | None] = mapped_column(String(255), nullable=True)
    receiver: Mapped[str | None] = mapped_column(String(255), nullable=True)
    log_level: Mapped[str | None] = mapped_column(String(16), nullable=True)
    error_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    details_fetched_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    headers_fetched_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "message_guid"),
        Index("ix_message_log_tenant_id_log_end", "tenant_id", "log_end"),
        Index("ix_message_log_tenant_id_status_log_end", "tenant_id", "status", "log_end"),
        Index("ix_message_log_tenant_id_iflow_id_log_end", "tenant_id", "iflow_id", "log_end"),
        # The details sweep's work list: failed messages whose details were not fetched yet.
        Index("ix_message_log_details_pending", "tenant_id", "log_end",
              postgresql_where=text(DETAILS_PENDING_SQL), sqlite_where=text(DETAILS_PENDING_SQL)),
    )


class IngestWatermark(Base):
    """How far ingestion of one kind (``hot``, ``cold``, ``payloads`` ...) has got for a tenant."""

    __tablename__ = "ingest_watermark"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    position: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cursor: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "kind"),)
