"""Body of a tuning preview or apply."""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["MAX_CONCURRENCY", "TuningChange"]

MAX_CONCURRENCY = 64


class TuningChange(msgspec.Struct, forbid_unknown_fields=True):
    """The wanted profile and per-group overrides (replacing the current overrides entirely)."""

    profile: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    overrides: dict[str, Annotated[int, msgspec.Meta(ge=1, le=MAX_CONCURRENCY)]] = msgspec.field(
        default_factory=dict)
    # apply only: the preview warned (CPI, database or Redis headroom) and the operator applies anyway
    confirm_warnings: bool = False
