"""Hourly and daily message aggregates per tenant / package / iflow / status, the per-tenant stats mark
(lock and first-run flag) and the dirty-hour queue that makes incremental stats exact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, BigId, UtcDateTime, utcnow

__all__ = ["StatsBucket", "StatsDirty", "StatsWatermark"]


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
    """One row per tenant whose stats were built at least once: ``stats_update_t`` locks it (one pass per
    tenant at a time) and a missing row means "rebuild everything". ``position`` is when the last pass ran;
    what to rebuild comes from ``stats_dirty``, never from this timestamp."""

    __tablename__ = "stats_watermark"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class StatsDirty(Base):
    """An hour (``hour`` = UTC epoch hours of LogEnd, else LogStart) whose cells must be rebuilt.

    Rows are written by database triggers on ``message_log`` (migration 1001) in the transaction that
    inserts a log or moves one between cells (LogEnd, LogStart, status, iflow, package change): the old
    and the new hour both. ``stats_update_t`` consumes them with ``DELETE … RETURNING``, so a row
    committed late is simply consumed by the first pass that can see it (there is no watermark to skip
    it). Duplicates are allowed on purpose: a unique key would make a concurrent writer's mark a no-op
    while the mark it collided with is being consumed.
    """

    __tablename__ = "stats_dirty"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    hour: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_stats_dirty_tenant_id", "tenant_id"),)
