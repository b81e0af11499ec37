"""core.schedules.arguments: what a schedule row stores for its arguments and how they are read back."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.fernet import Fernet

from core.schedules.arguments import (
    UnreadableArguments,
    needs_seal,
    readable_arguments,
    schedule_arguments,
    stored_columns,
)
from core.secrets import SecretBox
from core.settings import Settings


def _box(tmp_path: Path) -> SecretBox:
    return SecretBox(Settings(data_dir=tmp_path, secret_key=Fernet.generate_key().decode()))


def _row(columns: dict[str, Any]) -> Any:
    return SimpleNamespace(**columns)


def test_plain_arguments_stay_plain_and_need_no_key(tmp_path: Path) -> None:
    args = {"counter": "c", "n": 3, "url": "https://example.com", "nested": {"full": True}}
    assert not needs_seal(args)
    assert stored_columns(args, _box(tmp_path)) == {"args": args, "args_sealed": None}


def test_secret_arguments_are_sealed_whole_and_read_back_exactly(tmp_path: Path) -> None:
    box = _box(tmp_path)
    args = {"password": "pw-canary", "target": "https://hooks.example/T/abc-canary", "deep": {"token": "t"},
            "n": 1.5}
    columns = stored_columns(args, box)
    assert "canary" not in str(columns)
    assert columns["args"] == {"password": "***", "target": "https://hooks.example/***",
                               "deep": {"token": "***"}, "n": 1.5}
    assert schedule_arguments(_row(columns), box) == args
    assert readable_arguments(_row(columns), box) == (args, True)


def test_a_foreign_seal_is_unreadable_never_the_redacted_copy(tmp_path: Path) -> None:
    columns = stored_columns({"api_key": "k"}, _box(tmp_path / "a"))
    mine = _box(tmp_path / "b")
    with pytest.raises(UnreadableArguments, match="INTEGRAMON_SECRET_KEY"):
        schedule_arguments(_row(columns), mine)
    assert readable_arguments(_row(columns), mine) == ({"api_key": "***"}, False)
