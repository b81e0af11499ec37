"""Worker tuning: preview shows before/after per group, apply saves, publishes, and a running worker resizes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.outbox import OutboxEvent
from core.db.models.tuning import WorkerTuningSettings
from core.resources import open_resources
from core.settings import Settings


async def test_preview_changes_nothing(client: AsyncTestClient[Any], viewer: dict[str, str]) -> None:
    response = await client.post(
        "/api/v1/worker-tuning/preview", json={"profile": "fast", "overrides": {"ai": 2}}, headers=viewer
    )
    assert response.status_code == 200, response.text
    groups = {g["group"]: g for g in response.json()["groups"]}
    assert (groups["light"]["before"], groups["light"]["after"]) == (2, 4)
    assert (groups["ai"]["before"], groups["ai"]["after"], groups["ai"]["changed"]) == (1, 2, True)
    assert groups["alerts"]["changed"] is False
    current = (await client.get("/api/v1/worker-tuning", headers=viewer)).json()
    assert current["active_profile"] == "balanced"
    assert current["effective"]["light"] == 2


async def test_bad_tuning_input_names_the_field(client: AsyncTestClient[Any], admin: dict[str, str]) -> None:
    for body, field in [
        ({"profile": "turbo"}, "profile"),
        ({"profile": "fast", "overrides": {"nope": 2}}, "overrides.nope"),
        ({"profile": "fast", "overrides": {"ai": 0}}, "overrides"),
    ]:
        response = await client.post("/api/v1/worker-tuning/apply", json=body, headers=admin)
        assert response.status_code == 400, response.text
        assert field in response.text


async def test_apply_saves_publishes_and_records_event(
    client: AsyncTestClient[Any], admin: dict[str, str], redis: Redis, db: sessionmaker[Session]
) -> None:
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe("integramon:tuning")
    response = await client.post(
        "/api/v1/worker-tuning/apply", json={"profile": "safe", "overrides": {"light": 3}}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert await _received(pubsub, {"profile": "safe", "overrides": {"light": 3}, "by": "ops-admin"}, 2.0)
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    with db() as session:
        row = session.get(WorkerTuningSettings, 1)
        assert row is not None
        assert (row.active_profile, row.overrides, row.updated_by) == (
            "safe",
            {"light": 3},
            "ops-admin",
        )
        assert session.scalars(select(OutboxEvent.routing_key)).all() == ["tuning.changed"]


async def test_running_worker_follows_without_restart(
    client: AsyncTestClient[Any], admin: dict[str, str], settings: Settings, redis: Redis
) -> None:
    from functions.runner.tuning import ConcurrencySource
    from functions.runner.worker import GroupWorker
    from functions.selftest import JOBS

    async with open_resources(settings) as resources:
        worker = GroupWorker(
            resources,
            group="periodic",
            queues=["periodic_run"],
            implementations=dict(JOBS),
            concurrency=ConcurrencySource(resources.sessions, "periodic"),
        )
        task = asyncio.create_task(worker.run())
        try:
            await _until(lambda: worker.limit == 1)
            response = await client.post(
                "/api/v1/worker-tuning/apply", json={"profile": "balanced", "overrides": {"periodic": 3}}, headers=admin
            )
            assert response.status_code == 200
            await _until(lambda: worker.limit == 3)
            live = (await client.get("/api/v1/workers", headers=admin)).json()["workers"]
            assert [(w["group"], w["slots_used"]) for w in live] == [("periodic", 0)]
        finally:
            worker.request_stop()
            await asyncio.wait_for(task, 10)


async def _received(pubsub: Any, expected: dict[str, Any], seconds: float) -> bool:
    """Whether ``expected`` is published within ``seconds`` (pub/sub spans all Redis databases: skip others)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        message = await pubsub.get_message(timeout=0.2)
        if message is not None and json.loads(message["data"]) == expected:
            return True
    return False


async def _until(check: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)
