"""Admin API credentials and the audit trail of every change made through the API or console.

Tokens are stored only as their SHA-256 (``core.secrets.hash_token``): the plain token is shown
once by ``integramon token create`` and can never be read back. Tokens expire (``expires_at``).
Console sign-ins are server-side sessions (:class:`ConsoleSession`): the browser's cookie holds a
random session id whose hash is stored here, never the API token itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, BigId, JsonType, UtcDateTime, utcnow

__all__ = ["ApiToken", "AuditLog", "ConsoleSession"]


class ApiToken(Base):
    """A bearer token of the admin API; ``role`` is ``viewer`` (read) or ``admin`` (read and change)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # None: tokens made before expiry


class ConsoleSession(Base):
    """One console sign-in: ends at sign-out, after ``idle`` without use, at ``expires_at``, or when
    its token is revoked or expires."""

    __tablename__ = "console_session"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int] = mapped_column(Integer, ForeignKey("api_token.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AuditLog(Base):
    """One change: who (token name), what (action + target), when, and the details of the change."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)

    __table_args__ = (Index("ix_audit_log_at_id", "at", "id"),)
