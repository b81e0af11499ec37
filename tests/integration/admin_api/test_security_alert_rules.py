"""Alert rule channels: webhook URLs are sealed at rest (issue 12, item 7): the ``alert_rule`` row holds
only the redacted copy, admins get the whole URL back, viewers the scheme and host as before; a seal the
key cannot open is shown redacted (flagged) rather than failing the listing."""

from __future__ import annotations

import dataclasses
from typing import Any

from cryptography.fernet import Fernet
from litestar.testing import AsyncTestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.alerting.channels import store_channels
from core.db.models.alerting import AlertRule
from core.secrets import SecretBox
from core.settings import Settings

HOOK = "https://alerts:canary-pw@hooks.example.com/services/canary-path?token=canary-query"
SECRETS = ("canary-pw", "canary-path", "canary-query", "second-path")
TENANT = {"name": "sealed-alerts", "api_url": "https://acme.example/api", "client_id": "c", "client_secret": "s"}


def _stored_rows(engine: Engine) -> str:
    """Every column of every alert rule row, as text: what SQL access or a backup would show."""
    with engine.connect() as conn:
        return "\n".join(" ".join(str(v) for v in row) for row in conn.execute(text("select * from alert_rule")))


async def _tenant(client: AsyncTestClient[Any], admin: dict[str, str]) -> int:
    created = await client.post("/api/v1/tenants", json=TENANT, headers=admin)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


async def test_webhook_urls_are_sealed_in_the_database_and_whole_for_admins_only(
    client: AsyncTestClient[Any], admin: dict[str, str], viewer: dict[str, str], pg_engine: Engine
) -> None:
    tid = await _tenant(client, admin)
    body = {"name": "hooked", "tenant_id": tid, "condition": "failed_messages",
            "channels": [{"type": "webhook", "url": HOOK}, {"type": "email", "to": ["ops@acme.example"]}]}
    created = await client.post("/api/v1/alert-rules", json=body, headers=admin)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    assert created.json()["channels"][0] == {"type": "webhook", "url": HOOK, "to": None, "redacted": False}
    stored = _stored_rows(pg_engine)
    assert [s for s in SECRETS if s in stored] == []
    assert "https://hooks.example.com/***" in stored  # the redacted copy stays readable in SQL

    second = HOOK.replace("canary-path", "second-path")
    changed = await client.patch(f"/api/v1/alert-rules/{rid}", headers=admin,
                                 json={"channels": [{"type": "webhook", "url": second}]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["channels"][0]["url"] == second
    assert [s for s in SECRETS if s in _stored_rows(pg_engine)] == []
    shown = (await client.get(f"/api/v1/alert-rules/{rid}", headers=admin)).json()["channels"]
    assert shown == [{"type": "webhook", "url": second, "to": None, "redacted": False}]

    seen = await client.get(f"/api/v1/alert-rules?tenant_id={tid}", headers=viewer)
    assert [s for s in SECRETS if s in seen.text] == []
    rule = next(r for r in seen.json()["items"] if r["id"] == rid)
    assert rule["channels"] == [{"type": "webhook", "url": "https://hooks.example.com/…", "to": None,
                                 "redacted": True}]


async def test_a_seal_the_key_cannot_open_is_shown_redacted(
    client: AsyncTestClient[Any], admin: dict[str, str], viewer: dict[str, str], db: sessionmaker[Session],
    settings: Settings
) -> None:
    tid = await _tenant(client, admin)
    other = SecretBox(dataclasses.replace(settings, secret_key=Fernet.generate_key().decode()))
    with db.begin() as session:
        rule = AlertRule(name="old key", tenant_id=tid, condition="failed_messages")
        store_channels(rule, [{"type": "webhook", "url": HOOK}], other)  # sealed before the key was replaced
        session.add(rule)
        session.flush()
        rid = rule.id
    for who in (admin, viewer):
        listing = await client.get(f"/api/v1/alert-rules?tenant_id={tid}", headers=who)
        assert listing.status_code == 200, listing.text
        assert [s for s in SECRETS if s in listing.text] == []
        channel = next(r for r in listing.json()["items"] if r["id"] == rid)["channels"][0]
        assert channel["redacted"] is True
        assert channel["url"].startswith("https://hooks.example.com/")
