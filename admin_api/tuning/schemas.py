"""Body of a tuning preview or apply, and the responses: current tuning, preview, applied change."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

__all__ = ["MAX_CONCURRENCY", "AddedLoad", "GroupChange", "TuningApplied", "TuningChange", "TuningPreview",
           "TuningView"]

MAX_CONCURRENCY = 64


class TuningChange(msgspec.Struct, forbid_unknown_fields=True):
    """The wanted profile and per-group overrides (replacing the current overrides entirely)."""

    profile: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    overrides: dict[str, Annotated[int, msgspec.Meta(ge=1, le=MAX_CONCURRENCY)]] = msgspec.field(
        default_factory=dict)
    # apply only: the preview warned (CPI, database or Redis headroom) and the operator applies anyway
    confirm_warnings: bool = False


class TuningView(msgspec.Struct):
    """The active profile, overrides, every profile's table and the effective concurrency per group."""

    active_profile: str
    overrides: dict[str, int]
    profiles: dict[str, dict[str, int]]
    effective: dict[str, int]
    updated_by: str | None
    updated_at: datetime | None


class AddedLoad(msgspec.Struct):
    """What a group's higher concurrency adds, estimated from the last minutes' averages."""

    slots: int
    db_connections: int
    cpi_requests_per_s: float
    redis_ops_per_s: float


class GroupChange(msgspec.Struct):
    group: str
    queues: list[str]
    before: int
    after: int
    changed: bool
    adds: AddedLoad | None


class TuningPreview(msgspec.Struct):
    """Per group: concurrency now and after the change, the load it adds; ``warnings`` about headroom."""

    profile: str
    overrides: dict[str, int]
    groups: list[GroupChange]
    changed_groups: int
    warnings: list[str]


class TuningApplied(TuningPreview):
    """The saved change; ``notified_workers``: receivers of the resize message (workers also re-read it)."""

    applied: bool
    notified_workers: int
