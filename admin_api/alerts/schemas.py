"""Alert responses. ``status`` is ``open``, ``acknowledged`` (open, seen by an operator) or ``resolved``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

__all__ = ["AlertDetail", "AlertPage", "AlertSample", "AlertStatus", "AlertView", "SampleError"]

AlertStatus = Literal["open", "acknowledged", "resolved"]


class AlertView(msgspec.Struct):
    id: int
    rule_id: int
    rule_name: str
    tenant_id: int
    scope_key: str
    package_id: str | None
    iflow_id: str | None
    status: str
    current_count: int
    peak_count: int
    evaluations: int
    summary: str
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class AlertPage(msgspec.Struct):
    """Newest first; pass ``next_cursor`` back as ``cursor`` for the next page (null: last page)."""

    items: list[AlertView]
    next_cursor: str | None


class AlertSample(msgspec.Struct):
    """One sample message of the alert; ``error_text_url`` serves its stored error text."""

    message_guid: str
    stored: bool
    status: str | None = None
    iflow_id: str | None = None
    iflow_name: str | None = None
    log_end: datetime | None = None
    has_error_text: bool = False
    error_text_url: str | None = None


class AlertDetail(msgspec.Struct):
    alert: AlertView
    samples: list[AlertSample]


class SampleError(msgspec.Struct):
    """The stored error text of one sample message (null until its details are fetched)."""

    alert_id: int
    message_guid: str
    tenant_id: int
    status: str
    error_text: str | None
    details_fetched_at: datetime | None
