"""The hand-made bad inputs of issue 12 answer 400 naming the field, never 5xx (item 6), and the
controller's dedup namespaces are reserved (item 7)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.auth import AuditLog

FAR_DATES = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00%2B14:00"]


@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/dead-letters"])
@pytest.mark.parametrize("field", ["since", "until"])
@pytest.mark.parametrize("value", FAR_DATES)
async def test_far_offset_dates_are_400_for_viewers_too(
    client: AsyncTestClient[Any], viewer: dict[str, str], path: str, field: str, value: str
) -> None:
    response = await client.get(f"{path}?{field}={value}", headers=viewer)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


async def test_far_offset_dates_in_bulk_replay_and_console(
    client: AsyncTestClient[Any], admin: dict[str, str], admin_token: str
) -> None:
    bulk = await client.post("/api/v1/dead-letters/replay", headers=admin,
                             json={"until": "9999-12-31T23:59:59-14:00"})
    assert bulk.status_code == 400, bulk.text
    assert bulk.json()["field"] == "until"
    client.cookies.set("integramon_session", admin_token)
    page = await client.get("/jobs?until=9999-12-31T23:59:59-14:00")
    assert page.status_code < 500


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/jobs", '{"function": "noop", "kwargs": {"deep": %s}}'),
    ("/api/v1/schedules", '{"name": "deep", "function": "noop", "interval_seconds": 60, "args": {"deep": %s}}'),
])
@pytest.mark.parametrize("depth", [600, 100_000])
async def test_deeply_nested_json_is_400(
    client: AsyncTestClient[Any], admin: dict[str, str], path: str, body: str, depth: int
) -> None:
    response = await client.post(path, content=body % _nested(depth), headers={**admin, "content-type":
                                                                               "application/json"})
    assert response.status_code == 400, response.text[:300]
    assert response.json().get("field") in {"kwargs", "args", "body", "data"}


@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/tenants", "/api/v1/schedules",
                                  "/api/v1/worker-tuning/apply"])
async def test_invalid_utf8_body_is_400(client: AsyncTestClient[Any], admin: dict[str, str], path: str) -> None:
    response = await client.post(path, content=b'{"function": "no\xff\xfeop"}',
                                 headers={**admin, "content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "body"


async def test_a_cron_that_never_fires_is_400(client: AsyncTestClient[Any], admin: dict[str, str]) -> None:
    response = await client.post("/api/v1/schedules", headers=admin,
                                 json={"name": "never", "function": "noop", "cron": "0 0 30 2 *"})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "cron"
    assert "never fires" in response.json()["detail"]


@pytest.mark.parametrize("kwargs", [{"x": 1e400}, {"x": 2**70}, {"x": -(2**70)}])
async def test_numbers_the_wire_cannot_carry_are_400(
    client: AsyncTestClient[Any], admin: dict[str, str], kwargs: dict[str, Any]
) -> None:
    import json

    raw = json.dumps({"function": "noop", "kwargs": kwargs})  # 1e400 is written as Infinity
    response = await client.post("/api/v1/jobs", content=raw, headers={**admin, "content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["field"] in {"kwargs", "data", "body"}


@pytest.mark.parametrize("key", ["poll:1:hot", "schedule:3", "metric:queue_depth", "ingest:x", "noop"])
async def test_the_systems_dedup_namespaces_are_reserved(
    client: AsyncTestClient[Any], admin: dict[str, str], key: str
) -> None:
    response = await client.post("/api/v1/jobs", headers=admin, json={"function": "noop", "dedup_key": key})
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "dedup_key"


async def test_an_admin_dedup_key_is_audited(
    client: AsyncTestClient[Any], admin: dict[str, str], db: sessionmaker[Session]
) -> None:
    response = await client.post("/api/v1/jobs", headers=admin, json={"function": "noop", "dedup_key": "mine-1"})
    assert response.status_code == 201, response.text
    with db() as session:
        details = session.scalars(select(AuditLog.details).where(AuditLog.action == "job.enqueue")).all()
    assert [d["dedup_key"] for d in details] == ["mine-1"]


async def test_the_openapi_document_lists_errors_and_catalog_enums(
    client: AsyncTestClient[Any], admin: dict[str, str]
) -> None:
    from core.ledger.states import RunStatus
    from core.queues.catalog import FUNCTIONS, PROFILES, QUEUES

    doc = (await client.get("/schema/openapi.json", headers=admin)).json()
    jobs = doc["paths"]["/api/v1/jobs"]["get"]
    for code in ("400", "401", "403", "404", "409"):
        assert code in jobs["responses"], code
    params = {p["name"]: p["schema"] for p in jobs["parameters"]}

    def enum_of(schema: dict[str, Any]) -> set[str]:
        options = schema.get("oneOf") or schema.get("anyOf") or [schema]
        resolved = [doc["components"]["schemas"][o["$ref"].rsplit("/", 1)[1]] if "$ref" in o else o
                    for o in options]
        return {v for option in resolved for v in option.get("enum", [])}

    assert enum_of(params["queue"]) == set(QUEUES)
    assert enum_of(params["function"]) == set(FUNCTIONS)
    assert enum_of(params["status"]) == {s.value for s in RunStatus}
    schemas = doc["components"]["schemas"]
    profile_fields = [s["properties"]["profile"] for s in schemas.values() if "profile" in s.get("properties", {})]
    assert profile_fields
    assert all(enum_of(p) == set(PROFILES) for p in profile_fields)
    for path, item in doc["paths"].items():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation and not path.startswith("/health/"):
                assert {"401", "403", "404", "409"} <= set(operation["responses"]), path
