"""Hourly and daily message aggregates per tenant / package / iflow / status, and their watermark."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, BigId, UtcDateTime, utcnow

__all__ = ["StatsBucket", "StatsWatermark"]


class StatsBucket(Base):
    """One aggregate cell. ``package_id`` / ``iflow_id`` / ``status`` are ``*`` on roll-up rows, so the
    console reads a tenant, package or iflow total (and its failure rate) with one indexed lookup."""

    __tablename__ = "stats_bucket"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    granularity: Mapped[str] = mapped_column(String(8))
    bucket_start: Mapped[datetime] = mapped_column(UtcDateTime)
    package_id: Mapped[str] = mapped_column(String(255), default="*")
    iflow_id: Mapped[str] = mapped_column(String(255), default="*")
    status: Mapped[str] = mapped_column(String(16), default="*")
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    failure_rate: Mapped[float] = mapped_column(Float, default=0.0)
    p50_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    p95_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "granularity", "bucket_start", "package_id", "iflow_id", "status",
                         name="uq_stats_bucket_cell"),
        Index("ix_stats_bucket_granularity_bucket_start", "granularity", "bucket_start"),
    )


class StatsWatermark(Base):
    """The newest ``message_log.stored_at`` already aggregated for a tenant."""

    __tablename__ = "stats_watermark"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
