"""Body of a new schedule: a catalogued function run by cron or every N seconds."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

__all__ = ["ScheduleCreate"]


class ScheduleCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    function: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    args: dict[str, Any] = msgspec.field(default_factory=dict)
    tenant_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    cron: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None
    interval_seconds: Annotated[int, msgspec.Meta(ge=10, le=31 * 86_400)] | None = None
    enabled: bool = True
