"""The published OpenAPI document, completed where Litestar's generator leaves gaps.

Every operation lists the error answers it can give (400 naming the field, 401, 403, 404, 409, 429,
503) with the error body's schema, and parameters / body fields naming a queue, function, tuning
profile or run status carry their enum from the catalog, so clients (and the schemathesis run,
which validates responses against this document) know the real contract.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin

from core.ledger.states import RunStatus
from core.queues.catalog import FUNCTIONS, PROFILES, QUEUES

__all__ = ["CompletedJsonPlugin", "complete_document"]

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["status_code", "detail"],
    "properties": {
        "status_code": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": ["string", "null"], "description": "the request field at fault (400)"},
    },
    "additionalProperties": True,
}
_ERRORS = {
    "400": "bad input; `field` names the parameter or body field",
    "401": "missing, unknown, revoked or expired token / console session",
    "403": "the token's role may not do this (viewer on a change), or a console change without its header",
    "404": "no such resource",
    "409": "conflicts with the current state (duplicate name, active dedup key, wrong status)",
    "429": "too many failed sign-ins from this address (see Retry-After)",
    "503": "a backing service (database, Redis) is not reachable",
}
_PUBLIC = {"/health/live", "/health/ready"}


def _enums() -> dict[str, list[str]]:
    return {"queue": sorted(QUEUES), "function": sorted(FUNCTIONS), "profile": sorted(PROFILES),
            "status": [s.value for s in RunStatus]}


def _with_enum(schema: dict[str, Any], values: list[str]) -> None:
    if "oneOf" in schema or "anyOf" in schema:
        for option in schema.get("oneOf", schema.get("anyOf", [])):
            if option.get("type") == "string":
                _with_enum(option, values)
        return
    if schema.get("type") == "string" and "enum" not in schema:
        schema["enum"] = values


def _request_bodies(document: dict[str, Any]) -> set[str]:
    """Components used as request bodies (only there is a ``status`` field a run status)."""
    names = set()
    for item in document.get("paths", {}).values():
        for operation in item.values():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            for media in content.values():
                ref = media.get("schema", {}).get("$ref", "")
                if ref:
                    names.add(ref.rsplit("/", 1)[-1])
    return names


def complete_document(document: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers and the catalog enums (idempotent; mutates and returns ``document``)."""
    enums = _enums()
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", _ERROR_SCHEMA)
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            codes = ["400", "503"] if path in _PUBLIC else list(_ERRORS)
            for code in codes:
                responses.setdefault(code, {"description": _ERRORS[code], "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
            for parameter in operation.get("parameters", []):
                if parameter.get("name") in enums and isinstance(parameter.get("schema"), dict):
                    _with_enum(parameter["schema"], enums[parameter["name"]])
    bodies = _request_bodies(document)
    for component, schema in components.items():
        for name, prop in (schema.get("properties") or {}).items():
            if name == "status" and component not in bodies:
                continue  # a response's status may be an alert's, an attempt's or a probe's, not a run's
            if name in enums and isinstance(prop, dict):
                _with_enum(prop, enums[name])
    return document


class CompletedJsonPlugin(JsonRenderPlugin):
    """``/schema/openapi.json`` with :func:`complete_document` applied."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, complete_document(openapi_schema))
