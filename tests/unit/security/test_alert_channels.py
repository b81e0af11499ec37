"""core.alerting.channels: what an alert rule row stores for its channels, what a notification row keeps,
and how delivery gets the whole target back (never the redacted one)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.fernet import Fernet

from core.alerting.channels import (
    ChannelGone,
    UnreadableChannels,
    channel_target,
    delivery_target,
    readable_channels,
    rule_channels,
    shown_channels,
    shown_target,
    stored_columns,
)
from core.secrets import SecretBox
from core.settings import Settings

HOOK = "https://u:pw-canary@hooks.example/T/path-canary?sig=query-canary"
EMAIL: dict[str, Any] = {"type": "email", "to": ["a@acme.example", "b@acme.example"]}


def _box(tmp_path: Path) -> SecretBox:
    return SecretBox(Settings(data_dir=tmp_path, secret_key=Fernet.generate_key().decode()))


def _row(columns: dict[str, Any]) -> Any:
    return SimpleNamespace(**columns)


def test_channels_without_secrets_stay_plain(tmp_path: Path) -> None:
    channels = [{"type": "webhook", "url": "https://hooks.example"}, EMAIL]
    assert stored_columns(channels, _box(tmp_path)) == {"channels": channels, "channels_sealed": None}
    assert stored_columns([], _box(tmp_path)) == {"channels": [], "channels_sealed": None}


def test_webhook_urls_are_sealed_and_delivery_gets_them_whole(tmp_path: Path) -> None:
    box = _box(tmp_path)
    channels = [{"type": "webhook", "url": HOOK}, EMAIL]
    columns = stored_columns(channels, box)
    assert "canary" not in str(columns)
    row = _row(columns)
    assert shown_channels(row) == [{"type": "webhook", "url": "https://hooks.example/***"}, EMAIL]
    assert rule_channels(row, box) == channels
    assert readable_channels(row, box) == (channels, True)
    shown = [shown_target(str(channel_target(c))) for c in shown_channels(row)]
    assert shown == ["https://hooks.example/***", "a@acme.example,b@acme.example"]
    assert delivery_target(row, 0, shown[0], box) == HOOK
    assert delivery_target(row, 1, shown[1], box) == "a@acme.example,b@acme.example"
    many = ",".join(f"person{n}@acme.example" for n in range(20))  # longer than the rule's 200 characters
    assert shown_target(many) == many


def test_a_foreign_seal_or_a_changed_rule_never_yields_a_target(tmp_path: Path) -> None:
    columns = stored_columns([{"type": "webhook", "url": HOOK}], _box(tmp_path / "a"))
    mine = _box(tmp_path / "b")
    with pytest.raises(UnreadableChannels, match="INTEGRAMON_SECRET_KEY"):
        delivery_target(_row(columns), 0, "https://hooks.example/***", mine)
    assert readable_channels(_row(columns), mine) == ([{"type": "webhook", "url": "https://hooks.example/***"}],
                                                     False)
    other = stored_columns([{"type": "webhook", "url": "https://elsewhere.example/x"}], mine)
    for index in (0, 1, None):  # that position now holds another channel, or none
        with pytest.raises(ChannelGone):
            delivery_target(_row(other), index, "https://hooks.example/***", mine)
