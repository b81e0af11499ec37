"""Secrets are encrypted at rest with a stable key; tokens are stored as hashes."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

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
    with pytest.raises(ConfigError, match="valid Fernet keys"):
        SecretBox(Settings(secret_key="short"))


def test_tokens_hash_stably_and_differ() -> None:
    a, b = new_token(), new_token()
    assert a != b
    assert a.startswith("imt_")
    assert hash_token(a) == hash_token(a) != hash_token(b)


def test_key_rotation_new_key_first_old_keys_still_decrypt(tmp_path: Path) -> None:
    """INTEGRAMON_SECRET_KEY="new,old": new secrets use the new key, old ones stay readable."""
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored_before = SecretBox(Settings(data_dir=tmp_path, secret_key=old_key)).encrypt("client-secret")
    rotated = SecretBox(Settings(data_dir=tmp_path, secret_key=f"{new_key}, {old_key}"))
    assert rotated.decrypt(stored_before) == "client-secret"
    stored_after = rotated.encrypt("client-secret-2")
    assert Fernet(new_key.encode()).decrypt(stored_after.encode()) == b"client-secret-2"
    with pytest.raises(InvalidToken):
        Fernet(old_key.encode()).decrypt(stored_after.encode())
    # once the old key is dropped, a secret still under it is reported, not returned garbled
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        SecretBox(Settings(data_dir=tmp_path, secret_key=new_key)).decrypt(stored_before)


@pytest.mark.parametrize("value", [",", "not-a-key", f"{Fernet.generate_key().decode()},not-a-key"])
def test_a_bad_key_list_is_a_config_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="comma-separated"):
        SecretBox(Settings(data_dir=tmp_path, secret_key=value))


def test_reseal_moves_a_value_to_the_newest_key(tmp_path: Path) -> None:
    """What ``integramon secrets rotate`` does per value: tell whether it needs an older key, seal it again."""
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    under_old = SecretBox(Settings(data_dir=tmp_path, secret_key=old_key)).encrypt("client-secret")
    rotated = SecretBox(Settings(data_dir=tmp_path, secret_key=f"{new_key},{old_key}"))
    assert rotated.key_count == 2
    assert not rotated.is_newest(under_old)
    resealed = rotated.reseal(under_old)
    assert rotated.is_newest(resealed)
    assert SecretBox(Settings(data_dir=tmp_path, secret_key=new_key)).decrypt(resealed) == "client-secret"
    stranger = SecretBox(Settings(data_dir=tmp_path, secret_key=Fernet.generate_key().decode())).encrypt("x")
    assert not rotated.is_newest(stranger)
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        rotated.reseal(stranger)


def test_a_key_file_created_meanwhile_by_another_process_is_used(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh install starts several processes at once. One that finds no key file and then loses the
    race to create it must use the winner's key: it used to crash on the existing file (a controller
    died at start-up in CI this way and its standby was missing)."""
    winner = Fernet.generate_key()
    (tmp_path / "secret.key").write_bytes(winner)
    monkeypatch.setattr(Path, "exists", lambda self: False)  # the file appears right after our check
    box = SecretBox(Settings(data_dir=tmp_path))
    assert Fernet(winner).decrypt(box.encrypt("x").encode()) == b"x"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["secret.key"]  # no temporary file left behind
