"""Dead letters: a run that exhausts its retries is listed, replayed as a linked run, or discarded."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.auth import AuditLog
from core.db.models.outbox import OutboxEvent
from core.settings import Settings
from tests.integration.admin_api.conftest import run_periodic_worker


async def make_dead(client: AsyncTestClient[Any], admin: dict[str, str], settings: Settings, count: int) -> list[int]:
    ids = []
    for n in range(count):
        response = await client.post(
            "/api/v1/jobs", json={"function": "fail", "kwargs": {"message": f"boom {n}"}}, headers=admin
        )
        ids.append(response.json()["run_id"])
    await run_periodic_worker(settings)
    return ids


async def test_exhausted_run_is_listed_with_its_attempts(
    client: AsyncTestClient[Any], admin: dict[str, str], settings: Settings
) -> None:
    [run_id] = await make_dead(client, admin, settings, 1)
    listed = (await client.get("/api/v1/dead-letters", headers=admin)).json()["items"]
    assert [i["id"] for i in listed] == [run_id]
    assert "boom 0" in listed[0]["error_message"]
    detail = (await client.get(f"/api/v1/jobs/{run_id}", headers=admin)).json()
    assert detail["status"] == "dead"
    assert len(detail["attempts"]) == detail["max_attempts"] == 3


async def test_replay_and_discard(
    client: AsyncTestClient[Any], admin: dict[str, str], settings: Settings, db: sessionmaker[Session]
) -> None:
    first, second = await make_dead(client, admin, settings, 2)
    replay = await client.post(f"/api/v1/dead-letters/{first}/replay", headers=admin)
    assert replay.status_code == 201, replay.text
    new_run = (await client.get(f"/api/v1/jobs/{replay.json()['run_id']}", headers=admin)).json()
    assert new_run["replay_of_id"] == first
    assert new_run["args"] == {"message": "boom 0"}
    assert (await client.post(f"/api/v1/dead-letters/{first}/replay", headers=admin)).status_code == 409
    assert (await client.post(f"/api/v1/dead-letters/{second}/discard", headers=admin)).status_code == 200
    remaining = (await client.get("/api/v1/dead-letters", headers=admin)).json()["items"]
    assert remaining == []
    everything = (await client.get("/api/v1/dead-letters?include_resolved=true", headers=admin)).json()["items"]
    assert {i["id"] for i in everything} == {first, second}
    old = (await client.get(f"/api/v1/jobs/{first}", headers=admin)).json()
    assert old["resolution"]["action"] == "replayed"
    assert old["replays"][0]["id"] == new_run["id"]
    with db() as session:
        assert "run.replayed" in session.scalars(select(OutboxEvent.routing_key)).all()
        actions = session.scalars(select(AuditLog.action)).all()
    assert {"job.replay", "dead_letter.discard"} <= set(actions)


async def test_bulk_replay_by_filter(client: AsyncTestClient[Any], admin: dict[str, str], settings: Settings) -> None:
    ids = await make_dead(client, admin, settings, 3)
    response = await client.post("/api/v1/dead-letters/replay", json={"function": "fail", "limit": 10}, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert sorted(r["replayed_run_id"] for r in body["replayed"]) == sorted(ids)
    assert body["refused"] == []
    bad = await client.post("/api/v1/dead-letters/replay", json={"function": "nope"}, headers=admin)
    assert bad.status_code == 400
    assert "function" in bad.text
    not_dead = await client.post(f"/api/v1/dead-letters/{body['replayed'][0]['run_id']}/discard", headers=admin)
    assert not_dead.status_code == 409
