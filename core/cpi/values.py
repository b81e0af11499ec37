"""Tolerant readers for the quirks of real CPI replies.

Real tenants send numbers as strings (``"PayloadSize": "26"``, ``"__count": "7"``) and archiving flags
as booleans while SAP's own spec shows them as ``"false"`` strings; we accept both everywhere.
"""

from __future__ import annotations

__all__ = ["as_bool", "as_int", "as_str"]

_TRUE = frozenset({"true", "1", "yes", "x"})
_FALSE = frozenset({"false", "0", "no", ""})


def as_bool(raw: object) -> bool | None:
    """``True``/``False`` from a boolean, ``"true"``/``"false"`` (any case) or 0/1; None stays None."""
    if raw is None or isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return raw != 0
    if isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise ValueError(f"not a boolean: {raw!r}")


def as_int(raw: object) -> int | None:
    """An int from an int or a numeric string (``"26"``); None and ``""`` give None."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise ValueError(f"not an integer: {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            pass
    raise ValueError(f"not an integer: {raw!r}")


def as_str(raw: object) -> str | None:
    """A string or None; numbers become their text (CPI is not consistent about ids)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return str(raw)
    raise ValueError(f"not a string: {raw!r}")
