"""HTTP errors of the API and the handlers that turn every failure into a clear 4xx/503 body.

NotFound -> 404, Conflict -> 409, BadInput -> 400 naming the field; Litestar's own validation
errors become 400 with the offending field; an unreachable Redis or database (any driver error that
core.outage traces to one) is 503 naming the dependency; any other unexpected exception is logged
and answered 500 without internals (the schemathesis test keeps that from ever happening).
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from core.errors import CatalogError, ConfigError, IntegraMonError, ServiceUnavailable
from core.job_input import InputError
from core.outage import DATABASE, dependency_of
from core.queues.serialization import PayloadError
from core.urls import mask_text

__all__ = ["BadInput", "Conflict", "NotFound", "exception_handlers"]

log = logging.getLogger(__name__)


class NotFound(HTTPException):
    status_code = 404


class Conflict(HTTPException):
    status_code = 409


class BadInput(HTTPException):
    """400 whose body names the field: ``{"detail": ..., "field": name}``."""

    status_code = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(detail=f"{field}: {message}", extra={"field": field})


def _body(status: int, detail: str, extra: Any = None) -> Response[dict[str, Any]]:
    content: dict[str, Any] = {"status_code": status, "detail": detail}
    if isinstance(extra, dict):
        content.update(extra)
    elif extra:
        content["errors"] = extra
    return Response(content, status_code=status, media_type=MediaType.JSON)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    fields = [str(e.get("key")) for e in errors if isinstance(e, dict) and e.get("key")]
    messages = [str(e.get("message")) for e in errors if isinstance(e, dict) and e.get("message")]
    detail = messages[0] if messages else (exc.detail or "invalid input")
    if fields:
        detail = f"invalid value for {fields[0]}: {detail}"
    return _body(400, detail, {"field": fields[0] if fields else None, "errors": errors})


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    extra = exc.extra
    if exc.status_code == 400 and not extra:  # Litestar's own 400s are about the body it could not decode
        extra = {"field": "body"}
    response = _body(exc.status_code, exc.detail, extra)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _unavailable(dependency: str) -> Response[dict[str, Any]]:
    return _body(503, f"{dependency} not reachable; try again shortly", {"dependency": dependency})


def _ours(request: Request[Any, Any, Any], exc: IntegraMonError) -> Response[dict[str, Any]]:
    if isinstance(exc, InputError):
        return _body(400, str(exc), {"field": exc.field})
    message = mask_text(str(exc))  # a driver's message may quote a URL with its password
    if isinstance(exc, ServiceUnavailable):
        return _body(503, message, {"dependency": exc.dependency} if exc.dependency else None)
    if isinstance(exc, CatalogError | ConfigError | PayloadError):
        return _body(400, message)
    return _body(409, message)


def _database(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Values the database refuses (e.g. a NUL character in text) are bad input, not server errors."""
    if isinstance(exc, DataError):
        return _body(400, "a value cannot be stored (for example it contains a NUL character or is out of range)")
    if isinstance(exc, IntegrityError):
        return _body(409, "the change conflicts with existing data")
    return _unavailable(DATABASE)


def _undecodable(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """A body that is not UTF-8, or nested beyond what a parser can follow, is the client's error."""
    if isinstance(exc, UnicodeDecodeError):
        return _body(400, "body: the request body is not valid UTF-8", {"field": "body"})
    return _body(400, "body: the request body is nested too deeply", {"field": "body"})


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    dependency = dependency_of(exc)
    if dependency is not None:  # Redis or the database is down: 503 naming it, never a 500
        return _unavailable(dependency)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _body(HTTP_500_INTERNAL_SERVER_ERROR, "internal error (logged)")


exception_handlers: Any = {
    ValidationException: _validation,
    HTTPException: _http,
    IntegraMonError: _ours,
    DataError: _database,
    IntegrityError: _database,
    OperationalError: _database,
    UnicodeDecodeError: _undecodable,
    RecursionError: _undecodable,
    Exception: _unexpected,
}
