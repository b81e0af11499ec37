"""Which routes answer without authentication, decided per route handler (exact paths), not by
path prefixes: a future ``/jobs-export`` or ``/login-as`` route is authenticated like any other.

- PUBLIC_PATHS: health probes and the sign-in/out form handlers.
- Console pages (the console's nav table plus ``/`` and the job page) check the session themselves
  and answer with the sign-in page instead of a JSON 401.
- Static files (their routers are built with ``STATIC_OPT``).
Handlers are marked with Litestar's ``exclude_from_auth`` opt, which the auth middleware honours.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar.handlers import HTTPRouteHandler

from admin_api.console.routes import PAGES

__all__ = ["EXEMPT_KEY", "PUBLIC_PATHS", "STATIC_OPT", "console_page_paths", "mark_exemptions"]

EXEMPT_KEY = "exclude_from_auth"
STATIC_OPT = {EXEMPT_KEY: True}
PUBLIC_PATHS = frozenset({"/health/live", "/health/ready", "/login", "/logout"})


def console_page_paths() -> frozenset[str]:
    return frozenset({"/", *(page.path for page in PAGES)})


def mark_exemptions(handlers: Iterable[Any]) -> list[str]:
    """Mark the handlers whose exact paths are exempt; returns the exempt paths (for tests and docs)."""
    exempt = PUBLIC_PATHS | console_page_paths()
    marked: list[str] = []
    for handler in handlers:
        if isinstance(handler, HTTPRouteHandler) and handler.paths and set(handler.paths) <= exempt:
            handler.opt[EXEMPT_KEY] = True
            marked += sorted(handler.paths)
    return marked
