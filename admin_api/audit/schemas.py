"""Audit trail responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = ["AuditEntry", "AuditPage"]


class AuditEntry(msgspec.Struct):
    """One change: who (token name), what (``action`` on ``target``), when, and its details."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]


class AuditPage(msgspec.Struct):
    """Newest first; pass the last ``id`` as ``before_id`` for older entries."""

    items: list[AuditEntry]
