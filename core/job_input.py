"""The one set of rules for a job someone asks for by hand (API, console, CLI, schedules).

Producers inside the system build their arguments in code; people type them. Everything typed goes
through these checks before a ledger row is written, so the API answers 400 naming the field and the
CLI one line on stderr, and neither can enqueue what the JSON wire format would refuse (NaN, numbers
beyond 64 bits, nesting deeper than the codec allows, non-identifier names) or take over one of the
controller's own dedup namespaces (a taken ``poll:<tenant>:hot`` key would silently stop polling).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from core.db.models.tenants import Tenant
from core.errors import IntegraMonError
from core.queues.catalog import FUNCTIONS
from core.queues.serialization import PayloadError
from core.queues.serialization import check_arguments as check_wire_arguments

__all__ = ["MAX_ENQUEUE_COUNT", "MAX_KWARGS_BYTES", "RESERVED_DEDUP_PREFIXES", "InputError", "check_arguments",
           "check_dedup_key", "check_function", "check_tenant", "parse_arguments"]

MAX_KWARGS_BYTES = 64 * 1024
MAX_ENQUEUE_COUNT = 100_000  # copies one CLI call may enqueue
# dedup namespaces the system's own producers use (controller dispatch, schedules, metrics, families)
RESERVED_DEDUP_PREFIXES = ("poll:", "schedule:", "metric:", "host_metrics:", "api_metrics", "agent_report:",
                           "archive_cpi_day:", "alert_details:", "ingest:")


class InputError(IntegraMonError, ValueError):
    """Bad hand-made input; ``field`` names the culprit (API: 400 with ``field``; CLI: one line)."""

    def __init__(self, field: str, message: str) -> None:
        # CLI options read as a sentence ("--args is not valid JSON"), API fields as "kwargs: ..."
        super().__init__(f"{field} {message}" if field.startswith("--") else f"{field}: {message}")
        self.field = field
        self.message = message


def check_function(field: str, name: str) -> None:
    if name not in FUNCTIONS:
        raise InputError(field, f"unknown function {name!r}; catalogued: {', '.join(sorted(FUNCTIONS))}")


def check_arguments(field: str, kwargs: Any) -> None:
    """Identifier names, JSON values the wire format accepts, at most MAX_KWARGS_BYTES encoded."""
    if not isinstance(kwargs, dict):
        raise InputError(field, "must be a JSON object of keyword arguments")
    for key in kwargs:
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("_"):
            raise InputError(f"{field}.{key}", "argument names must be Python identifiers not starting with '_'")
    try:
        check_wire_arguments(kwargs)
    except PayloadError as exc:
        raise InputError(field, str(exc)) from None
    if len(json.dumps(kwargs)) > MAX_KWARGS_BYTES:
        raise InputError(field, f"arguments larger than {MAX_KWARGS_BYTES} bytes")


def parse_arguments(field: str, raw: str) -> dict[str, Any]:
    """Typed JSON text (the CLI's ``--args``) to checked keyword arguments."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(field, f"is not valid JSON: {exc.msg} at position {exc.pos}") from None
    except RecursionError:
        raise InputError(field, "is nested too deeply") from None
    check_arguments(field, value)
    return dict(value)


def check_dedup_key(field: str, key: str | None) -> None:
    if key is None:
        return
    if key.startswith(RESERVED_DEDUP_PREFIXES) or key in FUNCTIONS:
        raise InputError(field, f"{key!r} is in a namespace the system uses itself "
                                f"({', '.join(RESERVED_DEDUP_PREFIXES)} and function names)")


def check_tenant(session: Session, field: str, tenant_id: int | None) -> None:
    if tenant_id is not None and (not 1 <= tenant_id <= 2**31 - 1 or session.get(Tenant, tenant_id) is None):
        raise InputError(field, f"no tenant with id {tenant_id}")
