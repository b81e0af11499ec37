"""What CPI tells about one message beyond its log row: attachments, adapter attributes, custom
headers, and persisted payloads (message store entries).

Detail rows of a message are replaced as a set each time they are fetched (delete + insert in
one transaction), so re-running a details job is harmless and never duplicates rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, BigId, UtcDateTime, utcnow

__all__ = ["MessageAdapterAttribute", "MessageAttachment", "MessageCustomHeader", "PayloadEntry"]


class MessageAttachment(Base):
    """One MPL attachment (metadata only; the body is fetched on demand)."""

    __tablename__ = "message_attachment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    message_guid: Mapped[str] = mapped_column(String(64))
    attachment_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    payload_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    timestamp: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("tenant_id", "attachment_id"),
        Index("ix_message_attachment_tenant_id_message_guid", "tenant_id", "message_guid"),
    )


class MessageAdapterAttribute(Base):
    """One adapter attribute of a message (e.g. the AS2 message id a receiver adapter reported)."""

    __tablename__ = "message_adapter_attribute"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    message_guid: Mapped[str] = mapped_column(String(64))
    adapter_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    adapter_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_message_adapter_attribute_tenant_id_message_guid", "tenant_id", "message_guid"),)


class MessageCustomHeader(Base):
    """One custom header property: the business keys operators search by (order number ...)."""

    __tablename__ = "message_custom_header"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    message_guid: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_message_custom_header_tenant_id_message_guid", "tenant_id", "message_guid"),
        Index("ix_message_custom_header_tenant_id_name", "tenant_id", "name"),
    )


class PayloadEntry(Base):
    """A persisted message (MessageStoreEntry); ``object_key`` is set once its body is in storage."""

    __tablename__ = "payload_entry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    entry_id: Mapped[str] = mapped_column(String(255))
    message_guid: Mapped[str] = mapped_column(String(64))
    message_store_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    timestamp: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    has_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    object_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    fetched_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "entry_id"),
        Index("ix_payload_entry_tenant_id_message_guid", "tenant_id", "message_guid"),
    )
