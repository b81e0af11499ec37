"""Metrics, Prometheus text, Redis metrics, live workers, health and the API's own request statistics."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.db.models.controller import QueueSample
from core.db.models.platform import ApiMetricSample, HostMetricSample, StorageSnapshot
from core.settings import Settings
from tests.integration.admin_api.conftest import run_periodic_worker


async def test_live_depth_separates_ready_deferred_running(
    client: AsyncTestClient[Any], admin: dict[str, str], redis: Redis
) -> None:
    jobs = [(await client.post("/api/v1/jobs", json={"function": "noop"}, headers=admin)).json() for _ in range(3)]
    await client.post("/api/v1/jobs", json={"function": "noop", "defer_s": 600}, headers=admin)
    await redis.set(f"arq:in-progress:{jobs[0]['job_id']}", "w1", px=5000)
    queues = (await client.get("/api/v1/metrics/queues/live", headers=admin)).json()["queues"]
    periodic = next(q for q in queues if q["queue"] == "periodic_run")
    assert (periodic["ready"], periodic["deferred"], periodic["running"]) == (2, 1, 1)
    assert periodic["oldest_ready_age_s"] is not None
    assert periodic["oldest_ready_age_s"] >= 0
    text = (await client.get("/metrics", headers=admin)).text
    assert 'integramon_queue_ready_jobs{group="periodic",queue="periodic_run"} 2.0' in text
    assert 'integramon_queue_deferred_jobs{group="periodic",queue="periodic_run"} 1.0' in text
    assert 'integramon_api_requests_total{method="GET",route="/api/v1/metrics/queues/live",status="2xx"} 1.0' in text
    assert "# TYPE integramon_group_verdict gauge" in text
    assert "# TYPE integramon_queue_ready_jobs gauge" in text


async def test_queue_series_from_samples(
    client: AsyncTestClient[Any], admin: dict[str, str], db: sessionmaker[Session]
) -> None:
    now = utcnow()
    with db() as session, session.begin():
        session.add_all(
            [
                QueueSample(
                    sampled_at=now - timedelta(minutes=m),
                    queue="messagelog_read",
                    group_name="light",
                    ready=m,
                    deferred=0,
                    running=1,
                    oldest_ready_age_s=float(m),
                )
                for m in (1, 2, 90)
            ]
        )
    series = (await client.get("/api/v1/metrics/queues?minutes=60", headers=admin)).json()["series"]
    assert [p["ready"] for p in series["messagelog_read"]] == [2, 1]


async def test_throughput_failure_rate_and_durations(
    client: AsyncTestClient[Any], admin: dict[str, str], settings: Settings
) -> None:
    for body in ({"function": "noop"}, {"function": "noop"}, {"function": "fail", "kwargs": {"permanent": True}}):
        await client.post("/api/v1/jobs", json=body, headers=admin)
    await run_periodic_worker(settings)
    points = (await client.get("/api/v1/metrics/throughput?minutes=10&bucket_s=600", headers=admin)).json()["points"]
    assert sum(p["completed"] for p in points) == 3
    assert sum(p["failed"] for p in points) == 1
    durations = (await client.get("/api/v1/metrics/durations", headers=admin)).json()["queues"]
    periodic = next(d for d in durations if d["queue"] == "periodic_run")
    assert periodic["finished"] == 3
    assert abs(periodic["failure_rate"] - 1 / 3) < 0.01
    assert periodic["p50_ms"] is not None
    assert periodic["p99_ms"] >= periodic["p50_ms"]


async def test_redis_metrics(client: AsyncTestClient[Any], admin: dict[str, str]) -> None:
    await client.post("/api/v1/jobs", json={"function": "noop"}, headers=admin)
    data = (await client.get("/api/v1/redis-metrics", headers=admin)).json()
    assert data["server"]["used_memory"] > 0
    assert data["server"]["connected_clients"] >= 1
    assert "instantaneous_ops_per_sec" in data["server"]
    assert isinstance(data["slowlog"], list)
    assert any(db_stats["keys"] >= 1 for db_stats in data["keyspace"].values())
    assert next(q for q in data["queues"] if q["queue"] == "periodic_run")["ready"] == 1


async def test_workers_and_job_progress(client: AsyncTestClient[Any], admin: dict[str, str], redis: Redis) -> None:
    job = (await client.post("/api/v1/jobs", json={"function": "sleep"}, headers=admin)).json()
    beat = {
        "worker_id": "w-1",
        "group": "periodic",
        "queues": ["periodic_run"],
        "concurrency": 2,
        "running": [job["job_id"]],
        "host": "h",
        "pid": 1,
        "version": "t",
        "started_at": time.time() - 60,
        "last_seen": time.time() - 1.5,
    }
    await redis.sadd("integramon:workers", "w-1", "w-gone")
    await redis.set("integramon:worker:w-1", json.dumps(beat), ex=10)
    await redis.set(
        f"integramon:progress:{job['job_id']}", json.dumps({"done": 3, "total": 10, "message": "m", "at": time.time()})
    )
    workers = (await client.get("/api/v1/workers", headers=admin)).json()["workers"]
    assert [(w["worker_id"], w["slots_used"], w["concurrency"]) for w in workers] == [("w-1", 1, 2)]
    assert 1.0 <= workers[0]["heartbeat_age_s"] < 10
    assert workers[0]["jobs"][0]["run_id"] == job["run_id"]
    assert workers[0]["jobs"][0]["progress"]["done"] == 3
    detail = (await client.get(f"/api/v1/jobs/{job['run_id']}", headers=admin)).json()
    assert detail["progress"]["total"] == 10


async def test_readiness_needs_a_healthy_leader_and_a_live_worker(client: AsyncTestClient[Any], redis: Redis) -> None:
    not_ready = await client.get("/health/ready")
    assert not_ready.status_code == 503
    assert not_ready.json()["database"] is True
    now = time.time()
    await redis.set("integramon:controller:leader", "ctl-1", ex=10)
    loop = {
        "name": "reconcile",
        "interval_s": 60,
        "last_run_at": now,
        "last_ok_at": now,
        "last_error": None,
        "restarts": 0,
        "healthy": True,
        "controller_id": "ctl-1",
        "started_at": now - 5,
    }
    await redis.hset("integramon:controller:loops", "reconcile", json.dumps(loop))
    no_worker = await client.get("/health/ready")
    assert no_worker.status_code == 503
    assert no_worker.json()["workers"] == {"ok": False, "live": 0, "detail": "no worker has registered a heartbeat"}
    await redis.sadd("integramon:workers", "w-dead")
    expired = (await client.get("/health/ready")).json()["workers"]
    assert expired["detail"] == "no live worker: all 1 heartbeats expired"
    await redis.sadd("integramon:workers", "w-1")
    await redis.set("integramon:worker:w-1", json.dumps({"worker_id": "w-1", "last_seen": now}), ex=10)
    ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["workers"] == {"ok": True, "live": 1}
    await redis.hset("integramon:controller:loops", "reconcile", json.dumps({**loop, "last_ok_at": now - 600}))
    stalled = await client.get("/health/ready")
    assert stalled.status_code == 503
    assert stalled.json()["controller"]["unhealthy_loops"] == ["reconcile"]


async def test_requests_are_counted_per_route(
    client: AsyncTestClient[Any], admin: dict[str, str], redis: Redis
) -> None:
    for _ in range(3):
        await client.get("/api/v1/jobs", headers=admin)
    await asyncio.sleep(1.5)  # counters are flushed once a second
    stats = {k.decode(): int(v) for k, v in (await redis.hgetall("integramon:api:stats")).items()}
    assert stats["count:GET /api/v1/jobs"] == 3
    assert "ms:GET /api/v1/jobs" in stats
    await client.get(f"/api/v1/jobs/{10**6}", headers=admin)
    await asyncio.sleep(1.5)
    stats = {k.decode(): int(v) for k, v in (await redis.hgetall("integramon:api:stats")).items()}
    assert stats["count:GET /api/v1/jobs/{run_id}"] == 1


async def test_platform_series_from_host_api_and_storage_samples(
    client: AsyncTestClient[Any], admin: dict[str, str], db: sessionmaker[Session]
) -> None:
    now = utcnow()
    with db() as session, session.begin():
        for minutes, cpu in ((30, 10.0), (20, 55.5), (90 * 24, 99.0)):  # the last one is outside the window
            session.add(HostMetricSample(host="w1", taken_at=now - timedelta(minutes=minutes), cpu_percent=cpu,
                                         memory_percent=40.0, memory_used_bytes=1, disk_percent=5.0,
                                         disk_used_bytes=1, load_1m=0.5, load_5m=0.4, load_15m=0.3))
        for route, requests in (("GET /api/v1/jobs", 120), ("POST /api/v1/jobs", 3)):
            session.add(ApiMetricSample(taken_at=now - timedelta(minutes=5), route=route, requests=requests,
                                        errors=0, total_ms=requests * 2.0, avg_ms=2.0, cumulative={}))
        session.add(StorageSnapshot(taken_at=now - timedelta(hours=2), kind="deep", object_name="message_log",
                                    row_count=10, size_bytes=1000))
        session.add(StorageSnapshot(taken_at=now - timedelta(hours=1), kind="deep", object_name="message_log",
                                    row_count=20, size_bytes=2000))
    data = (await client.get("/api/v1/metrics/platform?minutes=60", headers=admin)).json()
    assert [p["cpu_percent"] for p in data["hosts"]["w1"]] == [10.0, 55.5]
    assert [p["requests"] for p in data["api"]["GET /api/v1/jobs"]] == [120]
    assert set(data["api"]) == {"GET /api/v1/jobs", "POST /api/v1/jobs"}
    assert data["storage"] == [{"object": "message_log", "kind": "deep", "rows": 20, "size_bytes": 2000,
                                "at": data["storage"][0]["at"]}]  # the newest snapshot only
    bad = await client.get("/api/v1/metrics/platform?minutes=0", headers=admin)
    assert bad.status_code == 400
