"""Schedules API on the firing path: run-now fans out per tenant and fires agent reports with their
firing identity; the list shows each schedule's last run and last success; timing can be changed."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.auth import AuditLog
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun

TENANT = {"api_url": "https://acme.example/api", "client_id": "c", "client_secret": "s"}


async def _tenants(client: AsyncTestClient[Any], admin: dict[str, str]) -> list[int]:
    ids = []
    for name in ("a", "b", "c"):
        created = await client.post("/api/v1/tenants", json=TENANT | {"name": name}, headers=admin)
        ids.append(created.json()["id"])
    await client.post(f"/api/v1/tenants/{ids[2]}/disable", headers=admin)
    return ids[:2]


async def test_run_now_fans_out_and_list_shows_last_run(client: AsyncTestClient[Any], admin: dict[str, str],
                                                        viewer: dict[str, str], db: sessionmaker[Session]) -> None:
    active = await _tenants(client, admin)
    created = await client.post("/api/v1/schedules", json={"name": "alerts", "function": "check_and_create_alerts",
                                                          "interval_seconds": 60, "per_tenant": True}, headers=admin)
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    assert created.json()["per_tenant"] is True
    ran = await client.post(f"/api/v1/schedules/{sid}/run", headers=admin)
    assert ran.status_code == 201, ran.text
    assert sorted(r["tenant_id"] for r in ran.json()["runs"]) == active
    with db() as session:
        kwargs = [r.args_redacted for r in session.scalars(select(WorkerJobRun).order_by(WorkerJobRun.id))]
    assert [k["tenant_id"] for k in kwargs] == active

    listed = (await client.get("/api/v1/schedules", headers=viewer)).json()["items"]
    row = next(s for s in listed if s["id"] == sid)
    assert row["last_run"]["status"] == "queued"
    assert row["last_success_at"] is None
    with db() as session, session.begin():
        session.execute(update(WorkerJobRun).values(status="succeeded", finished_at=utcnow()))
    row = next(s for s in (await client.get("/api/v1/schedules", headers=viewer)).json()["items"] if s["id"] == sid)
    assert row["last_run"]["status"] == "succeeded"
    assert row["last_success_at"] is not None

    both = await client.post("/api/v1/schedules", json={"name": "x", "function": "noop", "interval_seconds": 60,
                                                       "per_tenant": True, "tenant_id": active[0]}, headers=admin)
    assert both.status_code == 400
    assert both.json()["field"] == "per_tenant"


async def test_run_now_of_an_agent_report_follows_the_dispatch_path(
        client: AsyncTestClient[Any], admin: dict[str, str], viewer: dict[str, str],
        db: sessionmaker[Session]) -> None:
    tenant = (await _tenants(client, admin))[0]
    created = await client.post("/api/v1/schedules", headers=admin, json={
        "name": "daily digest", "function": "run_agent_report_task", "tenant_id": tenant, "cron": "0 7 * * *",
        "args": {"delivery": "webhook", "target": "https://hooks.example/x"}})
    sid = created.json()["id"]
    seen = (await client.get("/api/v1/schedules", headers=viewer)).json()["items"][0]
    assert seen["args"]["target"] == "https://hooks.example/…"  # viewers never see a report's target
    assert (await client.get("/api/v1/schedules", headers=admin)).json()["items"][0]["args"]["target"] == \
        "https://hooks.example/x"
    ran = (await client.post(f"/api/v1/schedules/{sid}/run", headers=admin)).json()
    assert ran["job_id"].startswith(f"agent_report:{sid}:")
    with db() as session:
        run = session.scalars(select(WorkerJobRun)).one()
    assert run.tenant_id == tenant
    assert run.args_redacted["job_config_id"] == sid
    assert "period_end" in run.args_redacted


async def test_change_timing_is_validated_and_audited(client: AsyncTestClient[Any], admin: dict[str, str],
                                                      viewer: dict[str, str], db: sessionmaker[Session]) -> None:
    sid = (await client.post("/api/v1/schedules", json={"name": "n", "function": "noop", "interval_seconds": 60},
                             headers=admin)).json()["id"]
    assert (await client.patch(f"/api/v1/schedules/{sid}", json={"cron": "*/5 * * * *"}, headers=viewer)
            ).status_code == 403
    changed = await client.patch(f"/api/v1/schedules/{sid}", json={"cron": "*/5 * * * *"}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["cron"], changed.json()["interval_seconds"]) == ("*/5 * * * *", None)
    for body, field in (({"cron": "soon"}, "cron"), ({"cron": "* * * * *", "interval_seconds": 60}, "cron"),
                        ({}, "cron"), ({"interval_seconds": 5}, "interval_seconds")):
        refused = await client.patch(f"/api/v1/schedules/{sid}", json=body, headers=admin)
        assert refused.status_code == 400, refused.text
        assert field in refused.text
    assert (await client.patch("/api/v1/schedules/999", json={"interval_seconds": 60}, headers=admin)
            ).status_code == 404
    with db() as session:
        assert "schedule.update" in session.scalars(select(AuditLog.action)).all()


async def test_seed_console_addresses_redirect_to_our_pages(client: AsyncTestClient[Any]) -> None:
    for old, new in (("/superadmin/jobs", "/jobs"), ("/superadmin/metrics", "/platform"),
                     ("/superadmin/redis-metrics", "/redis"), ("/superadmin/worker-tuning", "/tuning")):
        response = await client.get(old, follow_redirects=False)  # no token: the page itself signs in
        assert response.status_code == 308, (old, response.status_code)
        assert response.headers["location"] == new
    kept = await client.get("/superadmin/jobs?status=failed", follow_redirects=False)
    assert kept.headers["location"] == "/jobs?status=failed"
    assert (await client.get("/superadmin/other", follow_redirects=False)).status_code in (401, 404)
