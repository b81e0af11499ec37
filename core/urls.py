"""URLs that may carry credentials: one place that masks them and one rule for CPI endpoints.

Every URL that can reach a message, a log line, health output or an API response (Redis,
PostgreSQL, RabbitMQ, CPI, webhooks) goes through :func:`mask_url` (one URL) or :func:`mask_text`
(free text such as a driver's exception message), so ``redis://:PASSWORD@host`` is printed as
``redis://***@host``. The masking is deliberately blunt: any ``user:password@`` or ``user@`` in a
``scheme://`` URL is replaced, and query parameters whose names look secret are blanked too.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

__all__ = ["UrlRejected", "is_loopback_host", "mask_text", "mask_url", "require_secure_endpoint", "url_host"]

# scheme://userinfo@ ; userinfo stops at the first '/', whitespace or quote; the last '@' wins
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/\s'\"<>]*@)")
_SECRET_QUERY = re.compile(r"(?P<key>[?&;](?:[^=&;#\s]*(?:password|passwd|secret|token|key|sig|signature)"
                           r"[^=&;#\s]*)=)(?P<value>[^&;#\s'\"]*)", re.I)


class UrlRejected(ValueError):
    """A URL refused by :func:`require_secure_endpoint`; the message says why (never the userinfo)."""


def mask_url(url: str) -> str:
    """``url`` with its user name / password and secret-looking query values replaced by ``***``."""
    return mask_text(url)


def mask_text(text: str) -> str:
    """Every URL inside ``text`` masked as :func:`mask_url` does (for exception messages and logs)."""
    masked = _USERINFO.sub(lambda m: f"{m.group('scheme')}***@", text)
    return _SECRET_QUERY.sub(lambda m: f"{m.group('key')}***", masked)


def url_host(url: str | None) -> str | None:
    """The host (with port) of ``url`` and nothing else: what an audit entry may show."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "(invalid)"


def is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_secure_endpoint(url: str, plain_http_hosts: str) -> None:
    """Refuse a CPI endpoint that would carry credentials in clear text or in the URL itself.

    ``https://`` is required unless the host is in ``plain_http_hosts`` (a comma-separated list;
    the word ``loopback`` stands for localhost and every loopback address).
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # a malformed port raises here
    except ValueError as exc:
        raise UrlRejected(f"not a valid URL ({exc})") from None
    if not host:
        raise UrlRejected("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UrlRejected("credentials do not belong in the URL; use client_id / client_secret")
    if parts.scheme == "https":
        return
    if parts.scheme != "http":
        raise UrlRejected("must start with https://")
    allowed = {h.strip().lower() for h in plain_http_hosts.split(",") if h.strip()}
    if host.lower() in allowed or ("loopback" in allowed and is_loopback_host(host)):
        return
    raise UrlRejected(f"must use https:// (plain http is allowed only for the hosts in "
                      f"INTEGRAMON_CPI_PLAIN_HTTP_HOSTS; {host!r} is not one of them)")
