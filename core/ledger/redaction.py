"""Redaction of job arguments before they are stored in the ledger or shown in the console."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["redact"]

_SECRET_NAME = re.compile(r"secret|password|passwd|token|api[_-]?key|authorization|credential", re.I)
_MAX_STRING = 200
_MAX_ITEMS = 50


def redact(value: Any, *, _depth: int = 0) -> Any:
    """A JSON-safe copy of ``value`` with secret-looking keys masked and big values shortened."""
    if _depth > 4:
        return "…"
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in list(value.items())[:_MAX_ITEMS]:
            name = str(key)
            out[name] = "***" if _SECRET_NAME.search(name) else redact(item, _depth=_depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [redact(v, _depth=_depth + 1) for v in list(value)[:_MAX_ITEMS]]
    if isinstance(value, str):
        return value if len(value) <= _MAX_STRING else value[:_MAX_STRING] + "…"
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value), _depth=_depth + 1)
