"""Bodies of the dead-letter actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

__all__ = ["BulkReplayBody"]


class BulkReplayBody(msgspec.Struct, forbid_unknown_fields=True):
    """Replay every unresolved dead letter matching the filter (at most ``limit`` of them)."""

    queue: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    function: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    tenant_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 100
