"""Bodies and responses of the dead-letter list and actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from admin_api.jobs.schemas import ReplayResult, RunSummary

__all__ = ["BulkReplayBody", "BulkReplayResult", "DeadLetterPage", "DeadLetterSummary", "DiscardResult", "Refusal"]


class BulkReplayBody(msgspec.Struct, forbid_unknown_fields=True):
    """Replay every unresolved dead letter matching the filter (at most ``limit`` of them)."""

    queue: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    function: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    tenant_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 100


class DeadLetterSummary(RunSummary):
    """A dead-lettered run: its ledger row and the first 500 characters of its last error."""

    error_message: str


class DeadLetterPage(msgspec.Struct):
    """Newest first; pass ``next_cursor`` back as ``cursor`` for the next (older) page."""

    items: list[DeadLetterSummary]
    next_cursor: str | None


class DiscardResult(msgspec.Struct):
    run_id: int
    action: Literal["discarded"]


class Refusal(msgspec.Struct):
    """A dead letter the bulk replay could not replay, and why."""

    run_id: int
    reason: str


class BulkReplayResult(msgspec.Struct):
    replayed: list[ReplayResult]
    refused: list[Refusal]
