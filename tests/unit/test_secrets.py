"""Secrets are encrypted at rest with a stable key; tokens are stored as hashes."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.errors import ConfigError
from core.secrets import SecretBox, hash_token, new_token
from core.settings import Settings


def test_key_file_is_created_once_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    token = SecretBox(settings).encrypt("s3cr3t")
    assert "s3cr3t" not in token
    assert SecretBox(settings).decrypt(token) == "s3cr3t"
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_configured_key_and_wrong_key(tmp_path: Path) -> None:
    box = SecretBox(Settings(secret_key=Fernet.generate_key().decode()))
    other = SecretBox(Settings(secret_key=Fernet.generate_key().decode()))
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        other.decrypt(box.encrypt("x"))
    with pytest.raises(ConfigError, match="not a valid Fernet key"):
        SecretBox(Settings(secret_key="short"))


def test_tokens_hash_stably_and_differ() -> None:
    a, b = new_token(), new_token()
    assert a != b
    assert a.startswith("imt_")
    assert hash_token(a) == hash_token(a) != hash_token(b)
