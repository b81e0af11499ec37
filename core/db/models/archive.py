"""Manifests of archived tenant-days: what was written where, with counts and checksum."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, UtcDateTime, utcnow

__all__ = ["ArchiveManifest"]


class ArchiveManifest(Base):
    """One archived tenant-day; ``verified_at`` is set only after the object was read back and matched."""

    __tablename__ = "archive_manifest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    data_key: Mapped[str] = mapped_column(String(512))
    manifest_key: Mapped[str] = mapped_column(String(512))
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    store_location: Mapped[str] = mapped_column(String(512))
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    pruned_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "day"),)
