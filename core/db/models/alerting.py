"""Alert rules, the alerts they open (one open alert per rule and scope) and their notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, BigId, JsonType, UtcDateTime, utcnow

__all__ = ["Alert", "AlertNotification", "AlertRule"]


class AlertRule(Base):
    """A condition watched per tenant, package or iflow.

    ``condition``: ``failed_messages`` (messages in ``statuses`` within ``window_minutes`` >= ``threshold``),
    ``artifact_error`` (deployed artifacts in ERROR >= ``threshold``) or ``no_messages`` (an iflow sent
    nothing for ``window_minutes``). ``scope`` is the level one alert stands for; ``package_id`` /
    ``iflow_id`` narrow the rule to one package or iflow. ``channels``: ``[{"type": "webhook", "url": …},
    {"type": "email", "to": […]}]``, redacted (webhook URLs keep scheme and host); the real list, when it
    differs, is Fernet-encrypted in ``channels_sealed``. Read and write both only through
    ``core.alerting.channels``.
    """

    __tablename__ = "alert_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(16), default="tenant")
    package_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    iflow_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    condition: Mapped[str] = mapped_column(String(32))
    statuses: Mapped[list[str]] = mapped_column(JsonType, default=lambda: ["FAILED", "ESCALATED"])
    window_minutes: Mapped[int] = mapped_column(Integer, default=15)
    threshold: Mapped[int] = mapped_column(Integer, default=1)
    channels: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    channels_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    fetch_details: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Alert(Base):
    """One episode of a rule firing for one scope: opened once, updated with counts, then resolved."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rule.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    scope_key: Mapped[str] = mapped_column(String(600))
    package_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    iflow_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    current_count: Mapped[int] = mapped_column(Integer, default=0)
    peak_count: Mapped[int] = mapped_column(Integer, default=0)
    evaluations: Mapped[int] = mapped_column(Integer, default=1)
    summary: Mapped[str] = mapped_column(Text, default="")
    sample_guids: Mapped[list[str]] = mapped_column(JsonType, default=list)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # An operator saw it: the alert stays open (the engine keeps updating and resolves it) but leaves
    # the "open" list for the "acknowledged" one.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128), nullable=True)

    __table_args__ = (
        Index("ix_alert_tenant_id_status_opened_at", "tenant_id", "status", "opened_at"),
        # The "no floods" rule: at most one open alert per rule and scope.
        Index("uq_alert_open_rule_scope", "rule_id", "scope_key", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
    )


class AlertNotification(Base):
    """One delivery of an alert event to one channel; failed ones are retried by later runs.

    ``target`` is the redacted target (what the console shows); delivery resolves the real one from
    channel ``channel_index`` of the rule (``core.alerting.channels.delivery_target``)."""

    __tablename__ = "alert_notification"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(512))
    channel_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_alert_notification_status_created_at", "status", "created_at"),)
