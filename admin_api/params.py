"""Query and path parameter types shared by every area (bounds keep bad ids at 400/404, never a DB error)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar.params import Parameter

from admin_api.errors import BadInput
from core.ledger.states import RunStatus
from core.queues.catalog import FUNCTIONS, QUEUES

__all__ = ["Cursor", "FunctionName", "Limit", "QueueName", "RunId", "Since", "StatusQ", "TenantQ", "Until",
           "check_names"]

MAX_BIGINT = 2**63 - 1
MAX_INT = 2**31 - 1

RunId = Annotated[int, Parameter(ge=1, le=MAX_BIGINT, description="ledger id of the run")]
Limit = Annotated[int, Parameter(ge=1, le=500, description="page size")]
Cursor = Annotated[str | None, Parameter(max_length=200, description="next_cursor of the previous page")]
QueueName = Annotated[str | None, Parameter(max_length=64, description="catalogued queue")]
FunctionName = Annotated[str | None, Parameter(max_length=128, description="catalogued function")]
StatusQ = Annotated[RunStatus | None, Parameter(description="run status")]
TenantQ = Annotated[int | None, Parameter(ge=1, le=MAX_INT, description="tenant id")]
Since = Annotated[datetime | None, Parameter(description="enqueued at or after (ISO 8601, UTC if no zone)")]
Until = Annotated[datetime | None, Parameter(description="enqueued before (ISO 8601, UTC if no zone)")]


def check_names(queue: str | None, function: str | None) -> None:
    """Unknown queue or function names are 400s naming the parameter (not an empty result)."""
    if queue is not None and queue not in QUEUES:
        raise BadInput("queue", f"unknown queue {queue!r}")
    if function is not None and function not in FUNCTIONS:
        raise BadInput("function", f"unknown function {function!r}")
