"""Design-time content of a tenant: integration packages and their iflow artifacts.

An iflow's zip is stored through ``core.storage``; ``stored_version`` records which Version the
stored zip is, so a zip is downloaded again only when CPI reports a different Version (design-time
calls are limited to 20/s per tenant).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, JsonType, UtcDateTime, utcnow

__all__ = ["IflowArtifact", "IntegrationPackage"]


class IntegrationPackage(Base):
    """One integration package as last seen on the tenant."""

    __tablename__ = "integration_package"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    package_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    vendor: Mapped[str | None] = mapped_column(String(255), nullable=True)
    mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    modified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "package_id"),)


class IflowArtifact(Base):
    """One design-time iflow: the Version CPI reports and the Version whose zip we hold."""

    __tablename__ = "iflow_artifact"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    artifact_id: Mapped[str] = mapped_column(String(255))
    package_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    stored_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    object_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    downloaded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "artifact_id"),)
