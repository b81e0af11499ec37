"""Redaction of job arguments before they are stored in the ledger or shown in the console.

Secret-named keys are masked; URL values keep only scheme and host (a webhook URL usually carries its
secret in the path or query, and a URL may carry ``user:password@``)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

__all__ = ["redact"]

_SECRET_NAME = re.compile(r"secret|password|passwd|token|api[_-]?key|authorization|credential", re.I)
_MAX_STRING = 200
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://", re.ASCII)
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
        if _URL.match(value):
            return _redact_url(value)
        return value if len(value) <= _MAX_STRING else value[:_MAX_STRING] + "…"
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value), _depth=_depth + 1)


def _redact_url(url: str) -> str:
    """``scheme://host[:port]`` and a marker when anything else (credentials, path, query) was there."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "***"
    base = f"{parts.scheme}://{host}{port}"
    rest = parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password
    return f"{base}/***" if rest else url
