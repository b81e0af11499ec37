"""Security headers on every response of the API and console (a ``before_send`` hook).

- ``Content-Security-Policy``: scripts, styles and connections only from our own origin, no inline
  script (the console's scripts are static files; page data travels in a non-executable
  ``application/json`` block), no plugins, and ``frame-ancestors 'none'`` (no click-jacking).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``, ``X-Frame-Options: DENY``
  (older browsers).
- ``Cache-Control: no-store`` on everything but the static assets: pages and API answers are
  behind a token and must not stay in shared or browser caches.
- ``Strict-Transport-Security`` when the request came over HTTPS (``scope["scheme"]``, which
  uvicorn sets from ``X-Forwarded-Proto`` for the proxies in ``INTEGRAMON_FORWARDED_ALLOW_IPS``).
"""

from __future__ import annotations

from typing import Any

from litestar.types import Message, Scope

__all__ = ["CSP", "add_security_headers"]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_ALWAYS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
_STATIC_PREFIX = "/static/"


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Litestar ``before_send`` hook: runs on every response, error responses of middlewares included
    (a middleware would miss those: the exception handler sends them with the unwrapped ``send``)."""
    if message["type"] != "http.response.start":  # only HTTP responses (websocket messages differ)
        return
    path = str(scope.get("path", ""))
    extra = list(_ALWAYS)
    if scope.get("scheme") == "https":
        extra.append(_HSTS)
    headers: list[Any] = list(message.get("headers") or [])
    present = {bytes(name).lower() for name, _ in headers}
    headers += [(k, v) for k, v in extra if k not in present]
    if not path.startswith(_STATIC_PREFIX):
        headers = [(k, v) for k, v in headers if bytes(k).lower() != b"cache-control"]
        headers.append((b"cache-control", b"no-store"))
    message["headers"] = headers
