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


def test_the_walk_rejects_an_untyped_schema() -> None:
    """The checker itself: a bare object, an object of anything and an empty schema are not structured."""
    components = {"Page": {"type": "object", "properties": {"items": {"type": "array"}}}}
    assert structured({"$ref": "#/components/schemas/Page"}, components)
    assert structured({"oneOf": [{"$ref": "#/components/schemas/Page"}, {"type": "null"}]}, components)
    assert not structured({"type": "object", "additionalProperties": {}}, components)
    assert not structured({}, components)
    assert not structured({"type": "array", "items": {"type": "object"}}, components)
    assert not structured({"oneOf": [{"type": "null"}]}, components)
