"""The one clock for stored timestamps: aware UTC. Kept free of SQLAlchemy so the worker's hot path
(ledger records, endings) can stamp times without importing the ORM models' base."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)
