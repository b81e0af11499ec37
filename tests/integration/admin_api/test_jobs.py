"""Jobs API: enqueue, search with filters and keyset pages, detail with attempts, retry and cancel."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, cast

from cryptography.fernet import Fernet
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.ledger import WorkerJobRun
from core.db.models.outbox import OutboxEvent
from core.queues.serialization import decode_job
from core.settings import Settings
from tests.integration.admin_api.conftest import run_periodic_worker


async def enqueue(client: AsyncTestClient[Any], headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/jobs", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_enqueue_lists_and_filters(client: AsyncTestClient[Any], admin: dict[str, str]) -> None:
    first = await enqueue(client, admin, function="noop", kwargs={"counter": "c"})
    await enqueue(client, admin, function="sleep", kwargs={"seconds": 0.01}, defer_s=60)
    everything = (await client.get("/api/v1/jobs", headers=admin)).json()
    assert [i["function"] for i in everything["items"]] == ["sleep", "noop"]
    only_noop = (
        await client.get(
            "/api/v1/jobs", params={"function": "noop", "status": "queued", "queue": "periodic_run"}, headers=admin
        )
    ).json()
    assert [i["id"] for i in only_noop["items"]] == [first["run_id"]]
    detail = (await client.get(f"/api/v1/jobs/{first['run_id']}", headers=admin)).json()
    assert detail["args"] == {"counter": "c"}
    assert detail["status"] == "queued"
    assert detail["attempts"] == []


async def test_keyset_pages_cover_every_run_once(client: AsyncTestClient[Any], admin: dict[str, str]) -> None:
    for _ in range(7):
        await enqueue(client, admin, function="noop")
    seen: list[int] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/jobs", params=params, headers=admin)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen)) == 7


async def test_bad_input_names_the_field(client: AsyncTestClient[Any], admin: dict[str, str]) -> None:
    cases = [
        ("post", "/api/v1/jobs", {"function": "no_such_function"}, "function"),
        ("post", "/api/v1/jobs", {"function": "noop", "kwargs": {"_private": 1}}, "kwargs._private"),
        ("post", "/api/v1/jobs", {"function": "noop", "tenant_id": 999}, "tenant_id"),
        ("get", "/api/v1/jobs?cursor=garbage", None, "cursor"),
        ("get", "/api/v1/jobs?queue=nope", None, "queue"),
        ("get", "/api/v1/jobs?status=sleeping", None, "status"),
        ("get", "/api/v1/jobs?limit=0", None, "limit"),
    ]
    for method, path, body, field in cases:
        response = await getattr(client, method)(path, headers=admin, **({"json": body} if body else {}))
        assert response.status_code == 400, (path, response.text)
        assert field in response.text, (path, response.text)
    assert (await client.get("/api/v1/jobs/424242", headers=admin)).status_code == 404
    assert (await client.post("/api/v1/jobs/424242/retry", headers=admin)).status_code == 404


async def test_cancel_queued_job_removes_it_from_redis(
    client: AsyncTestClient[Any], admin: dict[str, str], redis: Redis, db: sessionmaker[Session]
) -> None:
    job = await enqueue(client, admin, function="sleep", kwargs={"seconds": 1}, defer_s=300)
    response = await client.post(f"/api/v1/jobs/{job['run_id']}/cancel", headers=admin)
    assert response.json()["status"] == "cancelled"
    assert await redis.zscore("arq:queue:periodic_run", job["job_id"]) is None
    assert not await redis.exists(f"arq:job:{job['job_id']}")
    with db() as session:
        assert session.get(WorkerJobRun, job["run_id"]).status == "cancelled"  # type: ignore[union-attr]
        assert session.scalars(select(OutboxEvent.routing_key)).all() == ["run.cancelled"]
    again = await client.post(f"/api/v1/jobs/{job['run_id']}/cancel", headers=admin)
    assert again.status_code == 409


async def test_cancel_running_job_asks_the_worker_to_abort(
    client: AsyncTestClient[Any], admin: dict[str, str], redis: Redis
) -> None:
    job = await enqueue(client, admin, function="sleep", kwargs={"seconds": 5})
    await redis.set(f"arq:in-progress:{job['job_id']}", "worker-x", px=5000)  # as a worker holding the lease
    response = await client.post(f"/api/v1/jobs/{job['run_id']}/cancel", headers=admin)
    assert response.json()["status"] == "cancelling"
    assert await redis.zscore("arq:abort", job["job_id"]) is not None


async def test_retry_runs_a_finished_job_again_linked_to_it(
    client: AsyncTestClient[Any], admin: dict[str, str], settings: Settings, db: sessionmaker[Session]
) -> None:
    job = await enqueue(client, admin, function="noop", kwargs={"counter": "retry-counter"})
    await run_periodic_worker(settings)
    done = (await client.get(f"/api/v1/jobs/{job['run_id']}", headers=admin)).json()
    assert done["status"] == "succeeded"
    assert [a["status"] for a in done["attempts"]] == ["succeeded"]
    retried = await client.post(f"/api/v1/jobs/{job['run_id']}/retry", headers=admin)
    assert retried.status_code == 201, retried.text
    new = (await client.get(f"/api/v1/jobs/{retried.json()['run_id']}", headers=admin)).json()
    assert new["replay_of_id"] == job["run_id"]
    assert new["args"] == {"counter": "retry-counter"}
    with db() as session:
        assert "run.replayed" in session.scalars(select(OutboxEvent.routing_key)).all()


async def test_retry_after_redis_forgot_the_job_uses_the_ledger_copy(
    client: AsyncTestClient[Any], admin: dict[str, str], redis: Redis, db: sessionmaker[Session]
) -> None:
    plain = await enqueue(client, admin, function="sleep", kwargs={"seconds": 0.1})
    secret = await enqueue(client, admin, function="sleep", kwargs={"seconds": 0.2, "api_token": "hunter2"})
    for job in (plain, secret):
        await client.post(f"/api/v1/jobs/{job['run_id']}/cancel", headers=admin)
    await redis.flushdb()  # the job and any result are gone from Redis
    with db() as session:
        sealed = dict(session.execute(select(WorkerJobRun.id, WorkerJobRun.args_sealed)).all())
    assert sealed[plain["run_id"]] is None  # the redacted copy is exact: nothing to seal
    assert "hunter2" not in cast(str, sealed[secret["run_id"]])  # the real arguments are stored encrypted
    for job, expected in ((plain, {"seconds": 0.1}), (secret, {"seconds": 0.2, "api_token": "hunter2"})):
        retried = await client.post(f"/api/v1/jobs/{job['run_id']}/retry", headers=admin)
        assert retried.status_code == 201, retried.text
        raw = await redis.get(f"arq:job:{retried.json()['job_id']}")
        assert decode_job(raw)["k"] == expected


async def test_retry_is_refused_when_neither_ledger_nor_redis_can_give_the_arguments(
    client: AsyncTestClient[Any], admin: dict[str, str], db: sessionmaker[Session]
) -> None:
    job = await enqueue(client, admin, function="noop", kwargs={"password": "x"})
    await client.post(f"/api/v1/jobs/{job['run_id']}/cancel", headers=admin)  # gone from Redis
    rotated = Fernet(Fernet.generate_key()).encrypt(b"sealed under an older key").decode()
    with db() as session, session.begin():
        session.execute(update(WorkerJobRun).where(WorkerJobRun.id == job["run_id"]).values(args_sealed=rotated))
    response = await client.post(f"/api/v1/jobs/{job['run_id']}/retry", headers=admin)
    assert response.status_code == 409
    assert "no longer in Redis" in response.json()["detail"]


async def test_retry_never_unpickles_what_sits_in_redis(
    client: AsyncTestClient[Any], admin: dict[str, str], db: sessionmaker[Session], redis: Redis, tmp_path: Path
) -> None:
    """The API used to unpickle arq:job / arq:result when the sealed copy could not be opened."""
    job = await enqueue(client, admin, function="noop", kwargs={"password": "x"})
    await client.post(f"/api/v1/jobs/{job['run_id']}/cancel", headers=admin)
    rotated = Fernet(Fernet.generate_key()).encrypt(b"sealed under an older key").decode()
    with db() as session, session.begin():
        session.execute(update(WorkerJobRun).where(WorkerJobRun.id == job["run_id"]).values(args_sealed=rotated))
    marker = tmp_path / "pwned"
    planted = pickle.dumps({"t": 1, "f": "noop", "a": (), "k": {"x": _Exploit(marker)}, "et": 0})
    for key in (f"arq:job:{job['job_id']}", f"arq:result:{job['job_id']}"):
        await redis.set(key, planted)
    response = await client.post(f"/api/v1/jobs/{job['run_id']}/retry", headers=admin)
    assert response.status_code == 409, response.text
    assert not marker.exists(), "the API unpickled a payload planted in Redis"


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


async def test_cancel_running_job_on_a_real_worker(
        client: AsyncTestClient[Any], admin: dict[str, str], settings: Settings) -> None:
    import asyncio

    from core.resources import open_resources
    from functions.runner.tuning import ConcurrencySource
    from functions.runner.worker import GroupWorker
    from functions.selftest import JOBS

    job = await enqueue(client, admin, function="sleep", kwargs={"seconds": 30})
    async with open_resources(settings) as resources:
        worker = GroupWorker(resources, group="periodic", queues=["periodic_run"], implementations=dict(JOBS),
                             concurrency=ConcurrencySource(resources.sessions, "periodic", fixed=1))
        task = asyncio.create_task(worker.run())
        try:
            await _status_becomes(client, admin, job["run_id"], "running")
            response = await client.post(f"/api/v1/jobs/{job['run_id']}/cancel", headers=admin)
            assert response.json()["status"] == "cancelling"
            await _status_becomes(client, admin, job["run_id"], "cancelled")
        finally:
            worker.request_stop()
            await asyncio.wait_for(task, 15)


async def _status_becomes(client: AsyncTestClient[Any], headers: dict[str, str], run_id: int, status: str) -> None:
    import asyncio

    for _ in range(200):
        if (await client.get(f"/api/v1/jobs/{run_id}", headers=headers)).json()["status"] == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} never became {status}")


async def test_the_jobs_list_reuses_pages_briefly_but_shows_changes_made_through_the_api(
    client: AsyncTestClient[Any], admin: dict[str, str]
) -> None:
    first = await enqueue(client, admin, function="noop")
    assert (await client.get("/api/v1/jobs", headers=admin)).json()["items"][0]["id"] == first["run_id"]
    second = await enqueue(client, admin, function="noop")  # a POST: pages of this process are dropped
    listed = (await client.get("/api/v1/jobs", headers=admin)).json()["items"]
    assert [row["id"] for row in listed[:2]] == [second["run_id"], first["run_id"]]
