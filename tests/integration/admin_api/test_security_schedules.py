"""Schedule arguments: secret-named values and webhook URLs are redacted for viewers (issue 12, item 7);
admins and the job itself get the real ones."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from core.queues.serialization import decode_job

HOOK = "https://hooks.example/services/T000/B000/hook-secret-value"
ARGS = {"api_token": "hunter2", "callback": HOOK, "counter": "c"}


async def test_schedule_arguments_are_redacted_for_viewers(
    client: AsyncTestClient[Any], admin: dict[str, str], viewer: dict[str, str], redis: Redis
) -> None:
    created = await client.post("/api/v1/schedules", headers=admin,
                                json={"name": "hooky", "function": "noop", "interval_seconds": 60, "args": ARGS})
    assert created.status_code == 201, created.text
    listing = await client.get("/api/v1/schedules", headers=viewer)
    assert "hunter2" not in listing.text
    assert "hook-secret-value" not in listing.text
    shown = next(s for s in listing.json()["items"] if s["name"] == "hooky")["args"]
    assert shown == {"api_token": "***", "callback": "https://hooks.example/***", "counter": "c"}
    mine = next(s for s in (await client.get("/api/v1/schedules", headers=admin)).json()["items"]
                if s["name"] == "hooky")
    assert mine["args"] == ARGS
    ran = await client.post(f"/api/v1/schedules/{mine['id']}/run", headers=admin)
    assert ran.status_code in (200, 201), ran.text
    raw = await redis.get(f"arq:job:{ran.json()['job_id']}")
    assert raw is not None
    assert decode_job(raw)["k"] == ARGS  # the job gets the real arguments
