"""From a parsed CPI MessageLog to a ``message_log`` row: queried fields as columns, the rest as JSON."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.cpi.models import MessageLog

__all__ = ["DETAIL_STATUSES", "EXTRA_FIELDS", "ROW_COLUMNS", "dedupe_latest", "log_to_row"]

# Statuses whose error text, attachments and adapter attributes we fetch right away.
DETAIL_STATUSES = frozenset({"FAILED", "ESCALATED"})

# Columns written by the upsert, in a fixed order (the PostgreSQL path binds one array per column).
ROW_COLUMNS = (
    "message_guid", "correlation_id", "application_message_id", "status", "custom_status",
    "log_start", "log_end", "iflow_id", "iflow_name", "package_id", "sender", "receiver", "log_level", "extra",
)

EXTRA_FIELDS = (
    "application_message_type", "predecessor_message_guid", "iflow_type", "package_name", "alternate_web_link",
    "archiving_status", "archiving_sender_channel_messages", "archiving_receiver_channel_messages",
    "archiving_log_attachments", "archiving_persisted_messages", "transaction_id",
    "previous_component_name", "local_component_name", "origin_component_name",
)


def _clip(value: str | None, size: int) -> str | None:
    """Columns are bounded; CPI strings rarely exceed them, but one long value must not fail a batch."""
    return value if value is None or len(value) <= size else value[:size]


def log_to_row(log: MessageLog) -> dict[str, Any]:
    """One row for the upsert (without tenant_id, which the caller binds once per batch)."""
    extra = {name: value for name in EXTRA_FIELDS if (value := getattr(log, name)) is not None}
    return {
        "message_guid": log.message_guid,
        "correlation_id": _clip(log.correlation_id, 64),
        "application_message_id": _clip(log.application_message_id, 255),
        "status": _clip(log.status, 16) or "",
        "custom_status": _clip(log.custom_status, 64),
        "log_start": log.log_start,
        "log_end": log.log_end,
        "iflow_id": _clip(log.iflow_id, 255),
        "iflow_name": _clip(log.iflow_name, 255),
        "package_id": _clip(log.package_id, 255),
        "sender": _clip(log.sender, 255),
        "receiver": _clip(log.receiver, 255),
        "log_level": _clip(log.log_level, 16),
        "extra": extra,
    }


def dedupe_latest(logs: Iterable[MessageLog]) -> list[MessageLog]:
    """One log per MessageGuid (the one with the latest LogEnd): an upsert may touch a row only once."""
    best: dict[str, MessageLog] = {}
    for log in logs:
        seen = best.get(log.message_guid)
        if seen is None or (log.log_end is not None and (seen.log_end is None or log.log_end >= seen.log_end)):
            best[log.message_guid] = log
    return list(best.values())
