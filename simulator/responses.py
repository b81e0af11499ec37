"""HTTP helpers of the simulator: format negotiation, OData error replies, tenant authentication."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from typing import Any

from litestar import Request, Response

from simulator.render import error_json, error_xml
from simulator.tenant import SimTenant

__all__ = ["ApiError", "authenticate", "error_response", "negotiate", "raw_response"]

JSON = "application/json"
XML = "application/atom+xml"


class ApiError(Exception):
    """An OData error reply: status, OData error code and a message naming the problem."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def negotiate(query: Mapping[str, str], accept: str | None) -> str:
    """``json`` or ``xml`` from ``$format`` or the Accept header (XML by default, as CPI); else 406."""
    fmt = query.get("$format")
    if fmt is not None:
        if fmt.lower() == "json":
            return "json"
        if fmt.lower() in ("xml", "atom"):
            return "xml"
        raise ApiError(400, "Bad Request", f"$format={fmt!r} is not supported (use json or xml)")
    if not accept:
        return "xml"
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if "application/json" in types:
        return "json"
    if any(t in ("application/atom+xml", "application/xml", "text/xml", "*/*", "application/*") for t in types):
        return "xml"
    raise ApiError(
        406,
        "Not Acceptable",
        f"cannot produce {accept!r}: use Accept application/json or application/atom+xml, or $format=json",
    )


def accepts_raw(accept: str | None, media_type: str) -> bool:
    """Whether a ``$value`` / ``$count`` reply of ``media_type`` is acceptable."""
    if not accept:
        return True
    major = media_type.split("/")[0]
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return any(t in ("*/*", media_type, f"{major}/*") for t in types)


def raw_response(
    body: bytes, media_type: str, accept: str | None, headers: Mapping[str, str] | None = None
) -> Response[bytes]:
    if not accepts_raw(accept, media_type):
        raise ApiError(
            406, "Not Acceptable", f"this resource is {media_type}; the Accept header {accept!r} excludes it"
        )
    return Response(content=body, media_type=media_type, headers=dict(headers or {}))


def error_response(error: ApiError, fmt: str) -> Response[bytes]:
    if fmt == "json":
        body, media = error_json(error.code, error.message), JSON
    else:
        body, media = error_xml(error.code, error.message), "application/xml"
    return Response(content=body, status_code=error.status, media_type=media, headers=error.headers)


def authenticate(request: Request[Any, Any, Any], tenant: SimTenant) -> None:
    """Accept a valid, unexpired bearer token of this tenant, or its client id/secret as HTTP Basic."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        if tenant.token_valid(value.strip()):
            return
        raise ApiError(
            401, "Unauthorized", "the access token is invalid or has expired", {"WWW-Authenticate": "Bearer"}
        )
    if scheme.lower() == "basic" and check_basic(value, tenant):
        return
    raise ApiError(401, "Unauthorized", "authentication required", {"WWW-Authenticate": 'Basic realm="CPI"'})


def check_basic(value: str, tenant: SimTenant) -> bool:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    client_id, _, secret = decoded.partition(":")
    creds = tenant.credentials
    return hmac.compare_digest(client_id, creds.client_id) and hmac.compare_digest(secret, creds.client_secret)
