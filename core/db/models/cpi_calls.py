"""CPI call metrics as a time series: one row per tenant, endpoint family and flush of one process.

Rows are written every few seconds by each process that talks to CPI (never a row per request); readers
add rows up over a window, latency percentiles included (the histogram buckets add).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, BigId, JsonType, UtcDateTime, utcnow

__all__ = ["CpiCallStat"]


class CpiCallStat(Base):
    """What one process's calls to one tenant's endpoint family cost since its previous flush."""

    __tablename__ = "cpi_call_stat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sampled_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    family: Mapped[str] = mapped_column(String(16))
    requests: Mapped[int] = mapped_column(Integer, default=0)
    throttled: Mapped[int] = mapped_column(Integer, default=0)
    server_errors: Mapped[int] = mapped_column(Integer, default=0)
    timeouts: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    retry_wait_ms: Mapped[float] = mapped_column(Float, default=0.0)
    latency_sum_ms: Mapped[float] = mapped_column(Float, default=0.0)
    latency_histogram: Mapped[list[int]] = mapped_column(JsonType, default=list)

    __table_args__ = (
        Index("ix_cpi_call_stat_sampled_at", "sampled_at"),
        Index("ix_cpi_call_stat_tenant_sampled", "tenant_id", "sampled_at"),
    )
