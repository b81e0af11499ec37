"""Every JSON operation of the admin API documents its success response with a structured schema.

The published OpenAPI document is what schemathesis validates answers against and what API clients are
generated from: an operation answering ``{}`` / a bare ``object`` there documents nothing and lets its
answers drift unchecked. Handlers return msgspec structs (one ``schemas.py`` per area) to keep this true.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from admin_api import create_app
from core.settings import Settings

DOCUMENTED_PREFIXES = ("/api/v1/", "/health/")
METHODS = ("get", "post", "put", "patch", "delete")

@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder: Path = tmp_path_factory.mktemp("openapi")
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'api.db'}",
                        redis_url="redis://127.0.0.1:6379/15", secret_key="")
    schema: dict[str, Any] = create_app(settings).openapi_schema.to_schema()
    return schema


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def structured(schema: dict[str, Any] | None, components: dict[str, Any]) -> bool:
    """An object with named properties, an array of such, or a union of them (``null`` aside)."""
    if not schema:
        return False
    schema = _resolve(schema, components)
    variants = schema.get("oneOf") or schema.get("anyOf")
    if variants:
        others = [v for v in variants if _resolve(v, components).get("type") != "null"]
        return bool(others) and all(structured(v, components) for v in others)
    if schema.get("type") == "array":
        return structured(schema.get("items"), components)
    return schema.get("type") == "object" and bool(schema.get("properties"))


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, operation)
            for path, item in sorted(document["paths"].items()) if path.startswith(DOCUMENTED_PREFIXES)
            for method, operation in item.items() if method in METHODS]


def _undocumented(operation: dict[str, Any], components: dict[str, Any]) -> list[str]:
    """What is wrong with the success responses of one operation (nothing: an empty list)."""
    success = {code: r for code, r in operation.get("responses", {}).items() if code.startswith("2")}
    if not success:
        return ["no success response"]
    problems = []
    for code, response in success.items():
        content = response.get("content") or {}
        if code == "204":
            if content:
                problems.append("204 with a body")
            continue
        schema = (content.get("application/json") or {}).get("schema")
        if not structured(schema, components):
            problems.append(f"{code}: {schema}")
    return problems


def test_every_json_operation_documents_a_structured_response(document: dict[str, Any]) -> None:
    components = document.get("components", {}).get("schemas", {})
    operations = _operations(document)
    assert len(operations) >= 50  # the walk sees the whole API, not an empty document
    missing = {f"{method} {path}: {problems}" for method, path, operation in operations
               if (problems := _undocumented(operation, components))}
    assert not missing, "operations without a response schema:\n" + "\n".join(sorted(missing))


def test_every_other_operation_documents_its_body(document: dict[str, Any]) -> None:
    """Outside the JSON prefixes (the Prometheus text at ``/metrics``) a success answer still names its
    media type and schema, so no operation of the document is left without a response schema."""
    others = [(method.upper(), path, operation) for path, item in sorted(document["paths"].items())
              if not path.startswith(DOCUMENTED_PREFIXES) for method, operation in item.items() if method in METHODS]
    assert any(path == "/metrics" for _, path, _ in others)
    bare = [f"{method} {path}" for method, path, operation in others
            if not any(media.get("schema") for code, response in operation.get("responses", {}).items()
                       if code.startswith("2") for media in (response.get("content") or {}).values())]
    assert not bare, f"operations without a response schema: {bare}"


SECRET_FIELDS = {"client_secret", "client_secret_encrypted", "secret", "password", "token_hash", "session_hash",
                 "session_id", "secret_key", "args_sealed"}


def _reachable(node: Any, components: dict[str, Any], seen: set[str]) -> None:
    """Collect into ``seen`` every component a schema refers to, directly or through others."""
    if isinstance(node, list):
        for child in node:
            _reachable(child, components, seen)
    elif isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and (name := ref.rsplit("/", 1)[-1]) not in seen:
            seen.add(name)
            _reachable(components[name], components, seen)
        for child in node.values():
            _reachable(child, components, seen)


def test_no_response_schema_has_a_secret_field(document: dict[str, Any]) -> None:
    """Secrets go in, never out: no struct an operation answers with has a field that could carry one,
    and the plain API token is a field of the answer to its creation only."""
    components = document.get("components", {}).get("schemas", {})
    answered: set[str] = set()
    for _, _, operation in _operations(document):
        for code, response in operation.get("responses", {}).items():
            for media in (response.get("content") or {}).values() if code.startswith("2") else ():
                _reachable(media.get("schema") or {}, components, answered)
    assert {"TenantView", "TokenView", "TokenCreated"} <= answered
    leaks = {f"{name}.{field}" for name in answered for field in components[name].get("properties", {})
             if field in SECRET_FIELDS or (field == "token" and name != "TokenCreated")}
    assert not leaks, f"secret-looking fields in response schemas: {sorted(leaks)}"


def test_the_walk_rejects_an_untyped_schema() -> None:
    """The checker itself: a bare object, an object of anything and an empty schema are not structured."""
    components = {"Page": {"type": "object", "properties": {"items": {"type": "array"}}}}
    assert structured({"$ref": "#/components/schemas/Page"}, components)
    assert structured({"oneOf": [{"$ref": "#/components/schemas/Page"}, {"type": "null"}]}, components)
    assert not structured({"type": "object", "additionalProperties": {}}, components)
    assert not structured({}, components)
    assert not structured({"type": "array", "items": {"type": "object"}}, components)
    assert not structured({"oneOf": [{"type": "null"}]}, components)
