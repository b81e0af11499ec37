"""Controller and API started while Redis and PostgreSQL are both down: neither exits; the API's
liveness answers and every database endpoint says 503 naming PostgreSQL; once the services come up
the controller leads and the API serves, each having logged the outage once and its end once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from admin_api import create_app
from core.db.migrate import upgrade
from core.queues.keys import CONTROLLER_LEADER
from core.settings import Settings
from tests.faults.services import PgCluster, RedisServer
from tests.ports import free_port
from tests.processes import running, wait_until

# Generous waits: this test proves the processes ride the outage out, not how fast they start. Two
# cold Python processes importing Litestar/SQLAlchemy on a loaded 2-core CI machine took 13-40 s to
# answer, which a 30 s wait turned into a failure.
START_S = 120.0
pytestmark = pytest.mark.timeout(420)


@pytest.fixture
def pg() -> Iterator[PgCluster]:
    cluster = PgCluster()
    cluster.init()
    try:
        yield cluster
    finally:
        cluster.remove()


def _status(port: int, path: str) -> int:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code
    except httpx.HTTPError:
        return 0


def _every_api_read_is_503(settings: Settings) -> None:
    """Every GET of the JSON API without path parameters answers 503 naming the dependency, never 500."""
    schema = create_app(settings).openapi_schema  # built here: the served schema is behind auth too
    assert schema.paths is not None
    port = settings.api_port
    paths = [p for p, item in schema.paths.items() if item.get is not None and "{" not in p and p.startswith("/api/")]
    assert len(paths) > 10
    answers = {p: httpx.get(f"http://127.0.0.1:{port}{p}", timeout=30,
                            headers={"Authorization": "Bearer some-token"}) for p in paths}
    wrong = {p: (r.status_code, r.text[:200]) for p, r in answers.items()
             if r.status_code != 503 or r.json().get("dependency") != "PostgreSQL"}
    assert not wrong


def test_controller_and_api_wait_for_their_dependencies(pg: PgCluster, tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis", persistent=False)
    settings = Settings(data_dir=tmp_path / "data", database_url=pg.url("integramon"), redis_url=redis.url(0),
                        secret_key="", api_port=free_port(), controller_lease_seconds=3.0)
    try:
        with running(settings, "controller", log=tmp_path / "controller.log") as controller, \
                running(settings, "api", log=tmp_path / "api.log") as api:
            wait_until(lambda: _status(settings.api_port, "/health/live") == 200, timeout=START_S,
                       what="the API to serve")
            jobs = httpx.get(f"http://127.0.0.1:{settings.api_port}/api/v1/jobs", timeout=30,
                             headers={"Authorization": "Bearer some-token"})
            assert jobs.status_code == 503  # the token cannot be checked either: the database is down
            assert "PostgreSQL" in jobs.text
            _every_api_read_is_503(settings)
            time.sleep(3.0)
            assert controller.poll() is None
            assert api.poll() is None

            pg.start()
            upgrade(pg.create_database("integramon"))
            redis.start()
            wait_until(lambda: redis.client().get(CONTROLLER_LEADER), timeout=START_S, what="the controller to lead")
            wait_until(lambda: _status(settings.api_port, "/health/ready") == 503
                       and httpx.get(f"http://127.0.0.1:{settings.api_port}/health/ready").json()["database"],
                       timeout=START_S, what="the API to reach the database")
            # the outage trackers write their recovery line at their own next success, which can come a
            # moment after the checks above saw the recovery: wait for it before the processes stop
            wait_until(lambda: "PostgreSQL is back" in (tmp_path / "api.log").read_text(), timeout=START_S,
                       what="the API to log the database's recovery")
            wait_until(lambda: "is back" in (tmp_path / "controller.log").read_text(), timeout=START_S,
                       what="the controller to log the recovery")
    finally:
        redis.kill()  # after both processes stopped: their logs end with the recovery
    controller_log = (tmp_path / "controller.log").read_text()
    assert controller_log.count("unavailable") == 1, controller_log[-3000:]
    assert controller_log.count("is back") == 1
    api_log = (tmp_path / "api.log").read_text()
    assert api_log.count("PostgreSQL unavailable") == 1, api_log[-3000:]
    assert api_log.count("PostgreSQL is back") == 1
