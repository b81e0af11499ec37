"""Redaction of job arguments before they are stored in the ledger or shown in the console.

Secret-named keys are masked; URL values keep only scheme and host (a webhook URL usually carries its
secret in the path or query, and a URL may carry ``user:password@``)."""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import urlsplit

__all__ = ["redact", "redact_flat"]

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


def redact_flat(kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """``redact(kwargs)`` for the common case, a flat dict of numbers, booleans, None and short strings
    that are not URLs (every enqueue stores its arguments redacted; 25,000 polling jobs a tick): the
    same result without the general walk. None when ``kwargs`` is anything else (call :func:`redact`)."""
    if len(kwargs) > _MAX_ITEMS:
        return None
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if type(key) is not str:
            return None
        kind = type(value)
        if _secret_name(key):
            out[key] = "***"
        elif value is None or kind is int or kind is float or kind is bool \
                or (kind is str and len(value) <= _MAX_STRING and "://" not in value):
            out[key] = value  # a string without "://" cannot match _URL
        else:
            return None
    return out


@functools.lru_cache(maxsize=1024)
def _secret_name(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


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
