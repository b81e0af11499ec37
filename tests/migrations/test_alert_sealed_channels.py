"""Migration 1102: existing alert rule channels are sealed on upgrade (the rule and notification rows
then hold no secret part of a webhook URL), delivery still finds the whole URL, and downgrade writes the
real channels and targets back, refusing with a key that cannot open the seals. On SQLite and
PostgreSQL (a database named after the test database, so parallel runs do not share it)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import select

from core.alerting.channels import UnreadableChannels, delivery_target, rule_channels
from core.db.migrate import SETTINGS_ATTRIBUTE, alembic_config, upgrade
from core.db.models.alerting import AlertNotification, AlertRule
from core.db.models.base import JsonType, UtcDateTime, utcnow
from core.db.session import create_db_engine, make_session_factory
from core.secrets import SecretBox
from core.settings import Settings
from tests.migrations.conftest import fresh_database_url

HOOK = "https://ops:canary-pw-1102@hooks.example/services/canary-path-1102?sig=canary-query-1102"
GONE = "https://hooks.example/removed/canary-gone-1102"
CHANNELS: list[dict[str, Any]] = [{"type": "webhook", "url": HOOK}, {"type": "email", "to": ["ops@acme.example"]},
                                  {"type": "webhook", "url": "https://plain.example"}]
CANARIES = ("canary-pw-1102", "canary-path-1102", "canary-query-1102", "canary-gone-1102")
# the 0801 shapes of the tables, to insert rows as an older release did
TENANT = sa.table("tenant", sa.column("id", sa.Integer), sa.column("name", sa.String),
                  sa.column("api_url", sa.String), sa.column("auth_type", sa.String), sa.column("client_id", sa.String),
                  sa.column("client_secret_encrypted", sa.Text), sa.column("active", sa.Boolean),
                  sa.column("created_at", UtcDateTime), sa.column("updated_at", UtcDateTime))
RULE = sa.table("alert_rule", sa.column("id", sa.Integer), sa.column("tenant_id", sa.Integer),
                sa.column("name", sa.String), sa.column("scope", sa.String), sa.column("condition", sa.String),
                sa.column("statuses", JsonType), sa.column("window_minutes", sa.Integer),
                sa.column("threshold", sa.Integer), sa.column("channels", JsonType),
                sa.column("fetch_details", sa.Boolean), sa.column("enabled", sa.Boolean),
                sa.column("created_at", UtcDateTime), sa.column("updated_at", UtcDateTime))
ALERT = sa.table("alert", sa.column("id", sa.BigInteger), sa.column("rule_id", sa.Integer),
                 sa.column("tenant_id", sa.Integer), sa.column("scope_key", sa.String), sa.column("status", sa.String),
                 sa.column("current_count", sa.Integer), sa.column("peak_count", sa.Integer),
                 sa.column("evaluations", sa.Integer), sa.column("summary", sa.Text),
                 sa.column("sample_guids", JsonType), sa.column("opened_at", UtcDateTime),
                 sa.column("updated_at", UtcDateTime))
NOTE = sa.table("alert_notification", sa.column("id", sa.BigInteger), sa.column("alert_id", sa.BigInteger),
                sa.column("event", sa.String), sa.column("channel", sa.String), sa.column("target", sa.String),
                sa.column("status", sa.String), sa.column("attempts", sa.Integer),
                sa.column("created_at", UtcDateTime))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_database_url(request.param, tmp_path, "m1102")


def _insert_old_rows(engine: sa.Engine) -> None:
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(sa.insert(TENANT), [{"id": 1, "name": "acme", "api_url": "https://acme.example/api",
                                          "auth_type": "oauth2", "client_id": "c", "client_secret_encrypted": "x",
                                          "active": True, "created_at": now, "updated_at": now}])
        conn.execute(sa.insert(RULE), [
            {"id": 1, "tenant_id": 1, "name": "hooked", "scope": "tenant", "condition": "failed_messages",
             "statuses": ["FAILED"], "window_minutes": 15, "threshold": 1, "channels": CHANNELS,
             "fetch_details": True, "enabled": True, "created_at": now, "updated_at": now}])
        conn.execute(sa.insert(ALERT), [{"id": 1, "rule_id": 1, "tenant_id": 1, "scope_key": "tenant:1",
                                         "status": "open", "current_count": 1, "peak_count": 1, "evaluations": 1,
                                         "summary": "", "sample_guids": [], "opened_at": now, "updated_at": now}])
        conn.execute(sa.insert(NOTE), [
            {"id": n, "alert_id": 1, "event": "opened", "channel": kind, "target": target, "status": "pending",
             "attempts": 0, "created_at": now}
            for n, kind, target in ((1, "webhook", HOOK), (2, "email", "ops@acme.example"), (3, "webhook", GONE))])


def _raw(engine: sa.Engine) -> tuple[list[Any], dict[int, str], str]:
    """(rule 1's channels, notification targets, every column of both tables as text) straight from SQL."""
    with engine.connect() as conn:
        rules = conn.execute(sa.text("select * from alert_rule where id = 1")).mappings().all()
        notes = conn.execute(sa.text("select * from alert_notification order by id")).mappings().all()
    channels = rules[0]["channels"]
    text = " ".join(str(v) for row in (*rules, *notes) for v in row.values())
    return json.loads(channels) if isinstance(channels, str) else channels, {n["id"]: n["target"] for n in notes}, text


def test_upgrade_seals_existing_channels_and_downgrade_restores_them(url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key=Fernet.generate_key().decode())
    cfg = alembic_config(url)
    cfg.attributes[SETTINGS_ATTRIBUTE] = settings
    command.upgrade(cfg, "0801")
    engine = create_db_engine(url)
    try:
        _insert_old_rows(engine)

        command.upgrade(cfg, "1102")
        channels, targets, text = _raw(engine)
        assert [c for c in CANARIES if c in text] == []
        assert channels[0] == {"type": "webhook", "url": "https://hooks.example/***"}
        assert channels[1:] == CHANNELS[1:]  # nothing secret there: kept as it was
        assert targets == {1: "https://hooks.example/***", 2: "ops@acme.example", 3: "https://hooks.example/***"}
        box = SecretBox(settings)
        with make_session_factory(engine)() as session:
            rule = session.get(AlertRule, 1)
            assert rule is not None
            assert rule_channels(rule, box) == CHANNELS
            notes = {n.id: n for n in session.scalars(select(AlertNotification))}
            assert [notes[n].channel_index for n in (1, 2, 3)] == [0, 1, None]
            assert delivery_target(rule, notes[1].channel_index, notes[1].target, box) == HOOK
            assert delivery_target(rule, notes[2].channel_index, notes[2].target, box) == "ops@acme.example"

        wrong = dataclasses.replace(settings, secret_key=Fernet.generate_key().decode())
        other = alembic_config(url)
        other.attributes[SETTINGS_ATTRIBUTE] = wrong
        with pytest.raises(UnreadableChannels):  # refused before anything is written
            command.downgrade(other, "0801")

        command.downgrade(cfg, "0801")
        channels, targets, _ = _raw(engine)
        assert channels == CHANNELS
        # the removed channel's whole URL was never kept anywhere once redacted
        assert targets == {1: HOOK, 2: "ops@acme.example", 3: "https://hooks.example/***"}

        upgrade(url, settings=settings)  # `integramon migrate` passes its settings this way
        channels, _, text = _raw(engine)
        assert [c for c in CANARIES if c in text] == []
        with make_session_factory(engine)() as session:
            rule = session.get(AlertRule, 1)
            assert rule is not None
            assert rule_channels(rule, box) == CHANNELS
    finally:
        engine.dispose()


def test_the_default_rule_needs_no_key(tmp_path: Path) -> None:
    """0801's default rule has no channel: 1102 leaves it plain and never builds a SecretBox (an invalid
    key would fail the upgrade if it did)."""
    url = f"sqlite:///{tmp_path / 'd.db'}"
    cfg = alembic_config(url)
    cfg.attributes[SETTINGS_ATTRIBUTE] = Settings(data_dir=tmp_path / "data", secret_key="not-a-fernet-key")
    command.upgrade(cfg, "0501")
    engine = create_db_engine(url)
    try:
        now = utcnow()
        with engine.begin() as conn:
            conn.execute(sa.insert(TENANT), [{"id": 1, "name": "acme", "api_url": "https://acme.example/api",
                                              "auth_type": "oauth2", "client_id": "c",
                                              "client_secret_encrypted": "x", "active": True, "created_at": now,
                                              "updated_at": now}])
        command.upgrade(cfg, "1102")
        with make_session_factory(engine)() as session:
            (rule,) = session.scalars(select(AlertRule))
            assert (rule.channels, rule.channels_sealed) == ([], None)
        command.downgrade(cfg, "0801")
    finally:
        engine.dispose()
