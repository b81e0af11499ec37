"""Worker tuning (active profile + per-group overrides) and platform metric settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, JsonType, UtcDateTime, utcnow

__all__ = ["MetricSettings", "WorkerTuningSettings"]


class WorkerTuningSettings(Base):
    """The single active tuning row (id 1). Running workers re-read it every few seconds."""

    __tablename__ = "worker_tuning_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    active_profile: Mapped[str] = mapped_column(String(32), default="balanced")
    overrides: Mapped[dict[str, int]] = mapped_column(JsonType, default=dict)
    updated_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class MetricSettings(Base):
    """Which platform metric is collected and how often (the controller dispatches by these rows)."""

    __tablename__ = "metric_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    metric: Mapped[str] = mapped_column(String(64), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=60)
    last_dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
