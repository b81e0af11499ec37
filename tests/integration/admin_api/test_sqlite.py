"""The embedded default (SQLite) takes the ORM path of every query: search, detail, metrics, tuning."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient

from admin_api import create_app
from admin_api.auth.services import create_token
from core.db.migrate import upgrade
from core.db.session import create_db_engine, make_session_factory
from core.settings import Settings
from tests.integration.admin_api.conftest import bearer, run_periodic_worker


async def test_api_on_sqlite(tmp_path: Path, redis_url: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", redis_url=redis_url)
    upgrade(settings.resolved_database_url)
    engine = create_db_engine(settings.resolved_database_url)
    with make_session_factory(engine)() as session, session.begin():
        headers = bearer(create_token(session, "lite", "admin"))
    engine.dispose()
    async with AsyncTestClient(app=create_app(settings)) as client:
        for body in ({"function": "noop"}, {"function": "noop"}, {"function": "fail", "kwargs": {"permanent": True}}):
            assert (await client.post("/api/v1/jobs", json=body, headers=headers)).status_code == 201
        await run_periodic_worker(settings)
        first = (await client.get("/api/v1/jobs?limit=2", headers=headers)).json()
        second = (await client.get(f"/api/v1/jobs?limit=2&cursor={first['next_cursor']}", headers=headers)).json()
        assert [i["id"] for i in first["items"] + second["items"]] == [3, 2, 1]
        failed = (await client.get("/api/v1/jobs?status=failed", headers=headers)).json()["items"]
        assert [i["function"] for i in failed] == ["fail"]
        points = (await client.get("/api/v1/metrics/throughput", headers=headers)).json()["points"]
        assert sum(p["completed"] for p in points) == 3
        durations = (await client.get("/api/v1/metrics/durations", headers=headers)).json()["queues"]
        assert durations[0]["finished"] == 3
        applied = await client.post("/api/v1/worker-tuning/apply", json={"profile": "safe"}, headers=headers)
        assert applied.status_code == 200
