"""Database and Redis pressure as a time series, sampled by the controller beside the queue depth."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, BigId, JsonType, UtcDateTime, utcnow

__all__ = ["StorePressureSample"]


class StorePressureSample(Base):
    """One sample of one store: ``store`` is ``database`` or ``redis``; ``values`` the fields of
    ``core.pressure.database.DatabasePressure`` or ``core.pressure.redis_info.RedisPressure``."""

    __tablename__ = "store_pressure_sample"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sampled_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    store: Mapped[str] = mapped_column(String(16))
    values: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)

    __table_args__ = (Index("ix_store_pressure_sample_store_sampled", "store", "sampled_at"),)
