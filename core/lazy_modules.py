"""Defer third-party modules that a dependency imports eagerly but IntegraMon rarely or never uses.

redis-py 5.x imports PyJWT at the top of ``redis.auth.token`` (for Entra ID token re-authentication,
which IntegraMon does not use), and PyJWT imports ``cryptography.x509``: together about a sixth of a
worker's import time and several MiB of memory, in every process that talks to Redis.

:func:`defer` puts a stand-in module under the name. The stand-in answers ``import`` at once, and
the first attribute anyone reads from it (``jwt.decode``, ``from jwt import PyJWK``, a submodule
import) imports the real module, which then replaces the stand-in in ``sys.modules``: a caller that
does use the module sees no difference. (The standard library's ``LazyLoader`` does not help here:
CPython 3.11's ``import`` statement reads ``__spec__`` and so loads the module at once.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

__all__ = ["RARELY_USED", "defer", "defer_rarely_used"]

RARELY_USED: tuple[str, ...] = ("jwt",)


class _Deferred(types.ModuleType):
    """Stand-in for a module not imported yet; reading any missing attribute imports the real one."""

    def __getattr__(self, attr: str) -> Any:
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)
        return getattr(real, attr)


def defer(name: str) -> bool:
    """Put a stand-in for ``name`` into ``sys.modules``; False when it is loaded already or not installed."""
    if name in sys.modules or importlib.util.find_spec(name) is None:
        return False
    stand_in = _Deferred(name, f"{name} (imported on first use, see core.lazy_modules)")
    stand_in.__spec__ = None
    sys.modules[name] = stand_in
    return True


def defer_rarely_used() -> None:
    """Defer every module of :data:`RARELY_USED` (called once, when the ``core`` package is imported)."""
    for name in RARELY_USED:
        defer(name)
