"""Alert rules (CRUD, field-naming validation, redaction for viewers), alerts (filters, detail with
samples, acknowledge) and settings (registry keys, global and per-tenant values, metric settings)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.config_keys import REGISTRY, read_config
from core.db.models.alerting import Alert, AlertRule
from core.db.models.auth import AuditLog
from core.db.models.base import utcnow
from core.db.models.messages import MessageLog
from core.db.models.tuning import MetricSettings

TENANT = {"name": "acme", "api_url": "https://acme.example/api", "client_id": "c", "client_secret": "s"}
HOOK = "https://hooks.example.com/services/T0/B0/very-secret-token"


async def _tenant(client: AsyncTestClient[Any], admin: dict[str, str], name: str = "acme") -> int:
    created = await client.post("/api/v1/tenants", json=TENANT | {"name": name}, headers=admin)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _actions(db: sessionmaker[Session]) -> list[str]:
    with db() as session:
        return list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


async def test_new_tenant_gets_the_default_rule(client: AsyncTestClient[Any], admin: dict[str, str]) -> None:
    tid = await _tenant(client, admin)
    rules = (await client.get(f"/api/v1/alert-rules?tenant_id={tid}", headers=admin)).json()["items"]
    assert len(rules) == 1
    rule = rules[0]
    assert (rule["condition"], rule["statuses"], rule["window_minutes"], rule["threshold"], rule["channels"]) == (
        "failed_messages", ["FAILED", "ESCALATED"], 15, 1, [])
    changed = await client.patch(f"/api/v1/alert-rules/{rule['id']}", json={"threshold": 5}, headers=admin)
    assert changed.status_code == 200
    assert changed.json()["threshold"] == 5


async def test_rule_crud_validation_and_redaction(client: AsyncTestClient[Any], admin: dict[str, str],
                                                  viewer: dict[str, str], db: sessionmaker[Session]) -> None:
    tid = await _tenant(client, admin)
    body = {"name": "iflow down", "tenant_id": tid, "condition": "no_messages", "scope": "iflow",
            "iflow_id": "Orders", "window_minutes": 60,
            "channels": [{"type": "webhook", "url": HOOK}, {"type": "email", "to": ["ops@acme.example"]}]}
    created = await client.post("/api/v1/alert-rules", json=body, headers=admin)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    assert created.json()["channels"][0]["url"] == HOOK  # admins see the whole target

    seen = (await client.get(f"/api/v1/alert-rules/{rid}", headers=viewer)).json()
    assert seen["channels"][0] == {"type": "webhook", "url": "https://hooks.example.com/…", "to": None,
                                   "redacted": True}
    assert seen["channels"][1]["to"] == ["…@acme.example"]
    listing = await client.get("/api/v1/alert-rules", headers=viewer)
    assert "very-secret-token" not in listing.text
    assert "ops@" not in listing.text

    for bad, field in (({"window_minutes": 0}, "window_minutes"), ({"channels": [{"type": "email", "to": ["x"]}]},
                                                                   "channels"),
                       ({"condition": "cpu"}, "condition"), ({"scope": "package", "iflow_id": "X"}, "iflow_id")):
        refused = await client.patch(f"/api/v1/alert-rules/{rid}", json=bad, headers=admin)
        assert refused.status_code == 400, (bad, refused.text)
        assert field in str(refused.json().get("field")) or field in refused.json()["detail"], refused.text
    missing = await client.post("/api/v1/alert-rules", json=body | {"tenant_id": 999}, headers=admin)
    assert missing.status_code == 400
    assert missing.json()["field"] == "tenant_id"
    assert (await client.post("/api/v1/alert-rules", json=body, headers=viewer)).status_code == 403
    assert (await client.patch(f"/api/v1/alert-rules/{rid}", json={}, headers=viewer)).status_code == 403
    assert (await client.delete(f"/api/v1/alert-rules/{rid}", headers=viewer)).status_code == 403

    cleared = await client.patch(f"/api/v1/alert-rules/{rid}", json={"iflow_id": None, "scope": "tenant"},
                                 headers=admin)
    assert cleared.json()["iflow_id"] is None
    assert (await client.delete(f"/api/v1/alert-rules/{rid}", headers=admin)).status_code == 204
    assert (await client.get(f"/api/v1/alert-rules/{rid}", headers=admin)).status_code == 404
    with db() as session:
        assert session.get(AlertRule, rid) is None
        audit_text = str(session.scalars(select(AuditLog.details)).all())
    assert "very-secret-token" not in audit_text
    assert [a for a in _actions(db) if a.startswith("alert_rule.")][-3:] == [
        "alert_rule.create", "alert_rule.update", "alert_rule.delete"]


def _alerts(db: sessionmaker[Session], tid: int) -> tuple[int, int, int]:
    now = utcnow()
    with db() as session, session.begin():
        rule = session.scalars(select(AlertRule).where(AlertRule.tenant_id == tid)).one()
        session.add(MessageLog(tenant_id=tid, message_guid="g-1", status="FAILED", iflow_id="Orders",
                               error_text="HTTP 500 from receiver", log_end=now))
        old = Alert(rule_id=rule.id, tenant_id=tid, scope_key="tenant", status="resolved", summary="old",
                    opened_at=now - timedelta(hours=2), updated_at=now, resolved_at=now - timedelta(hours=1))
        live = Alert(rule_id=rule.id, tenant_id=tid, scope_key="tenant", status="open", current_count=2,
                     peak_count=2, summary="2 failed", sample_guids=["g-1", "g-2"], opened_at=now, updated_at=now)
        session.add_all([old, live])
        session.flush()
        return rule.id, old.id, live.id


async def test_alert_list_detail_and_acknowledge(client: AsyncTestClient[Any], admin: dict[str, str],
                                                 viewer: dict[str, str], db: sessionmaker[Session]) -> None:
    tid = await _tenant(client, admin)
    other = await _tenant(client, admin, "other")
    rule_id, old_id, live_id = _alerts(db, tid)

    async def ids(query: str) -> list[int]:
        page = await client.get(f"/api/v1/alerts{query}", headers=viewer)
        assert page.status_code == 200, page.text
        return [a["id"] for a in page.json()["items"]]

    assert await ids("") == [live_id, old_id]
    assert await ids("?status=open") == [live_id]
    assert await ids("?status=resolved") == [old_id]
    assert await ids(f"?tenant_id={other}") == []
    assert await ids(f"?rule_id={rule_id}&status=open") == [live_id]
    first = (await client.get("/api/v1/alerts?limit=1", headers=viewer)).json()
    assert [a["id"] for a in first["items"]] == [live_id]
    assert await ids(f"?limit=1&cursor={first['next_cursor']}") == [old_id]
    assert (await client.get("/api/v1/alerts?status=closed", headers=viewer)).status_code == 400
    assert (await client.get("/api/v1/alerts?cursor=abc", headers=viewer)).json()["field"] == "cursor"

    detail = (await client.get(f"/api/v1/alerts/{live_id}", headers=viewer)).json()
    assert detail["alert"]["rule_name"] == "Failed or escalated messages"
    stored, unknown = detail["samples"]
    assert stored["stored"] is True
    assert stored["has_error_text"] is True
    assert unknown == {"message_guid": "g-2", "stored": False, "status": None, "iflow_id": None,
                       "iflow_name": None, "log_end": None, "has_error_text": False, "error_text_url": None}
    error = (await client.get(stored["error_text_url"], headers=viewer)).json()
    assert error["error_text"] == "HTTP 500 from receiver"
    assert (await client.get(f"/api/v1/alerts/{live_id}/samples/g-9", headers=viewer)).status_code == 404
    assert (await client.get(f"/api/v1/alerts/{live_id + 100}", headers=viewer)).status_code == 404

    assert (await client.post(f"/api/v1/alerts/{live_id}/acknowledge", headers=viewer)).status_code == 403
    acked = await client.post(f"/api/v1/alerts/{live_id}/acknowledge", headers=admin)
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledged_by"] == "ops-admin"
    again = await client.post(f"/api/v1/alerts/{live_id}/acknowledge", headers=admin)
    assert again.json()["acknowledged_at"] == acked.json()["acknowledged_at"]
    assert await ids("?status=open") == []
    assert await ids("?status=acknowledged") == [live_id]
    assert (await client.post(f"/api/v1/alerts/{old_id}/acknowledge", headers=admin)).status_code == 409
    assert _actions(db).count("alert.acknowledge") == 1
    with db() as session:
        assert session.get(Alert, live_id).status == "open"  # type: ignore[union-attr]


async def test_settings_registry_global_and_tenant_values(client: AsyncTestClient[Any], admin: dict[str, str],
                                                          viewer: dict[str, str], db: sessionmaker[Session]) -> None:
    tid = await _tenant(client, admin)
    listing = (await client.get("/api/v1/settings", headers=viewer)).json()
    assert {k["key"] for k in listing["keys"]} == set(REGISTRY)
    hot = next(k for k in listing["keys"] if k["key"] == "poll.hot.interval_s")
    assert (hot["type"], hot["default"], hot["value"], hot["stored"], hot["minimum"]) == ("float", 60.0, 60.0,
                                                                                          False, 0)
    assert {m["metric"] for m in listing["metric_settings"]} >= {"host_metrics", "api_metrics", "storage"}

    assert (await client.put("/api/v1/settings/poll.hot.interval_s", json={"value": 30}, headers=viewer)
            ).status_code == 403
    changed = await client.put("/api/v1/settings/poll.hot.interval_s", json={"value": 30}, headers=admin)
    assert changed.status_code == 200
    assert changed.json()["value"] == 30.0
    assert changed.json()["stored"] is True
    for key, value in (("poll.hot.interval_s", -1), ("poll.hot.interval_s", "fast"),
                       ("retention.message_log_days", 1.5), ("periodic.disabled", [1])):
        refused = await client.put(f"/api/v1/settings/{key}", json={"value": value}, headers=admin)
        assert refused.status_code == 400, refused.text
        assert refused.json()["field"] == "value", refused.text
    assert (await client.put("/api/v1/settings/no.such", json={"value": 1}, headers=admin)).status_code == 404

    tenant_put = await client.put(f"/api/v1/tenants/{tid}/settings/retention.message_log_days", json={"value": 7},
                                  headers=admin)
    assert tenant_put.status_code == 200
    assert tenant_put.json()["value"] == 7
    glob = await client.put(f"/api/v1/tenants/{tid}/settings/retention.metrics_days", json={"value": 7},
                            headers=admin)
    assert glob.status_code == 400
    assert glob.json()["field"] == "key"
    assert (await client.put("/api/v1/tenants/999/settings/retention.message_log_days", json={"value": 7},
                             headers=admin)).status_code == 404
    with db() as session:
        assert read_config(session, "retention.message_log_days", tid) == 7
        assert read_config(session, "poll.hot.interval_s") == 30.0
    per_tenant = (await client.get(f"/api/v1/tenants/{tid}/settings", headers=viewer)).json()["items"]
    assert next(i for i in per_tenant if i["key"] == "retention.message_log_days")["overridden"] is True
    assert (await client.delete(f"/api/v1/tenants/{tid}/settings/retention.message_log_days", headers=admin)
            ).status_code == 204
    assert (await client.delete(f"/api/v1/tenants/{tid}/settings/retention.message_log_days", headers=admin)
            ).status_code == 404
    reset = await client.delete("/api/v1/settings/poll.hot.interval_s", headers=admin)
    assert reset.json()["stored"] is False
    assert reset.json()["value"] == 60.0
    with db() as session:
        assert read_config(session, "retention.message_log_days", tid) == 30
    assert [a for a in _actions(db) if a.startswith("setting.")] == [
        "setting.set", "setting.set_tenant", "setting.clear_tenant", "setting.reset"]


async def test_metric_settings(client: AsyncTestClient[Any], admin: dict[str, str], viewer: dict[str, str],
                               db: sessionmaker[Session]) -> None:
    shown = await client.get("/api/v1/metric-settings/storage_deep", headers=viewer)
    assert shown.json()["stored"] is False
    assert shown.json()["interval_seconds"] == 86_400
    assert (await client.get("/api/v1/metric-settings/cpu", headers=viewer)).status_code == 404
    assert (await client.put("/api/v1/metric-settings/api_metrics", json={"enabled": False}, headers=viewer)
            ).status_code == 403
    changed = await client.put("/api/v1/metric-settings/api_metrics", json={"enabled": False,
                                                                           "interval_seconds": 120}, headers=admin)
    assert changed.status_code == 200
    assert changed.json()["enabled"] is False
    refused = await client.put("/api/v1/metric-settings/api_metrics", json={"interval_seconds": 1}, headers=admin)
    assert refused.status_code == 400
    assert "interval_seconds" in refused.text
    with db() as session:
        row = session.scalars(select(MetricSettings).where(MetricSettings.metric == "api_metrics")).one()
        assert (row.enabled, row.interval_seconds) == (False, 120)
    assert "metric_setting.update" in _actions(db)
    listed = (await client.get("/api/v1/metric-settings", headers=viewer)).json()["items"]
    assert {m["metric"] for m in listed} == {"host_metrics", "api_metrics", "storage", "storage_deep"}


async def test_stats_list_serves_tenant_totals(client: AsyncTestClient[Any], admin: dict[str, str],
                                               viewer: dict[str, str], db: sessionmaker[Session]) -> None:
    from core.db.models.stats import StatsBucket

    tid = await _tenant(client, admin)
    hour = utcnow().replace(minute=0, second=0, microsecond=0)
    with db() as session, session.begin():
        session.add_all([
            StatsBucket(tenant_id=tid, granularity="hour", bucket_start=hour, message_count=10, failed_count=2,
                        failure_rate=0.2),
            StatsBucket(tenant_id=tid, granularity="hour", bucket_start=hour - timedelta(hours=1), message_count=4),
            StatsBucket(tenant_id=tid, granularity="hour", bucket_start=hour, iflow_id="Orders", message_count=3),
            StatsBucket(tenant_id=tid, granularity="day", bucket_start=hour.replace(hour=0), message_count=14)])
    rows = (await client.get(f"/api/v1/stats?tenant_id={tid}", headers=viewer)).json()["items"]
    assert [(r["message_count"], r["failed_count"]) for r in rows] == [(10, 2), (4, 0)]
    days = (await client.get("/api/v1/stats?granularity=day", headers=viewer)).json()["items"]
    assert [r["message_count"] for r in days] == [14]
    assert (await client.get("/api/v1/stats?granularity=week", headers=viewer)).status_code == 400
