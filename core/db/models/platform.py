"""Platform operations data: agent reports, pending configs, and the metric time series the console charts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, BigId, JsonType, UtcDateTime, utcnow

__all__ = ["AgentReport", "ApiMetricSample", "HostMetricSample", "PendingConfig", "StorageSnapshot"]


class AgentReport(Base):
    """One built digest of failures per iflow for a period, and how its delivery went."""

    __tablename__ = "agent_report"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_config_id: Mapped[int | None] = mapped_column(
        ForeignKey("job_config.id", ondelete="SET NULL"), nullable=True, index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=True)
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime)
    digest: Mapped[dict[str, Any]] = mapped_column(JsonType)
    text: Mapped[str] = mapped_column(Text)
    delivery: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(512))
    delivery_status: Mapped[str] = mapped_column(String(16), default="pending")
    delivery_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class PendingConfig(Base):
    """A configuration change staged for a tenant, waiting to be applied (or to expire)."""

    __tablename__ = "pending_config"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=True)
    key: Mapped[str] = mapped_column(String(128))
    value: Mapped[Any] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_pending_config_applied_at_created_at", "applied_at", "created_at"),)


class StorageSnapshot(Base):
    """Size of one database table or of the object store at one moment (``kind`` quick or deep)."""

    __tablename__ = "storage_snapshot"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(8))
    object_name: Mapped[str] = mapped_column(String(255))
    row_count: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_storage_snapshot_object_name_taken_at", "object_name", "taken_at"),)


class HostMetricSample(Base):
    """CPU, memory, disk and load of one worker host at one moment."""

    __tablename__ = "host_metric_sample"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    host: Mapped[str] = mapped_column(String(255))
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    cpu_percent: Mapped[float] = mapped_column(Float)
    memory_percent: Mapped[float] = mapped_column(Float)
    memory_used_bytes: Mapped[int] = mapped_column(BigInteger)
    disk_percent: Mapped[float] = mapped_column(Float)
    disk_used_bytes: Mapped[int] = mapped_column(BigInteger)
    load_1m: Mapped[float] = mapped_column(Float)
    load_5m: Mapped[float] = mapped_column(Float)
    load_15m: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_host_metric_sample_host_taken_at", "host", "taken_at"),)


class ApiMetricSample(Base):
    """Admin API requests of one route since the previous sample (deltas of the Redis counters)."""

    __tablename__ = "api_metric_sample"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    route: Mapped[str] = mapped_column(String(255))
    requests: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    total_ms: Mapped[float] = mapped_column(Float)
    avg_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    cumulative: Mapped[dict[str, float]] = mapped_column(JsonType, default=dict)

    __table_args__ = (Index("ix_api_metric_sample_route_taken_at", "route", "taken_at"),)
