"""Encryption of secrets at rest (CPI client secrets) with Fernet, and hashing of API tokens.

The key comes from ``INTEGRAMON_SECRET_KEY``; without it a key file is created once in the data
folder (mode 0600), so the embedded mode works out of the box and a restart can still decrypt.

Rotation: ``INTEGRAMON_SECRET_KEY`` may hold several comma-separated keys, the new one first. New
secrets are encrypted with the first key; every key still decrypts (Fernet's MultiFernet), so old
values stay readable; ``integramon secrets rotate`` (core.key_rotation) re-encrypts every stored
value with the first key and says when no value needs an older one, so that key can be dropped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets as pysecrets
from collections.abc import Iterator
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.errors import ConfigError
from core.settings import Settings

__all__ = ["SecretBox", "hash_token", "new_token"]


def _load_keys(settings: Settings) -> list[bytes]:
    if settings.secret_key:
        return [key.strip().encode() for key in settings.secret_key.split(",") if key.strip()]
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        _create_key_file(path)
    return [path.read_bytes().strip()]


def _create_key_file(path: Path) -> None:
    """Write a new key to ``path`` unless another process got there first (the processes of a fresh
    install start together). The key is written to a private temporary file and hard-linked into
    place, so the file appears whole or not at all: a process that loses the race reads the winner's
    complete key, never an empty or half-written one, and never fails on the existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process's key is in place: use that one
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class SecretBox:
    """Encrypts and decrypts secrets; one instance per process, built from settings."""

    def __init__(self, settings: Settings) -> None:
        keys = _load_keys(settings)
        try:
            fernets = [Fernet(key) for key in keys]
            self._fernet = MultiFernet(fernets)
        except ValueError as exc:
            raise ConfigError("INTEGRAMON_SECRET_KEY is not a comma-separated list of valid Fernet keys "
                              "(32 url-safe base64 bytes each)") from exc
        self._newest = fernets[0]
        self.key_count = len(fernets)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def encrypt_bytes(self, data: bytes) -> str:
        return self._fernet.encrypt(data).decode()

    def decrypt_bytes(self, token: str) -> bytes:
        with _readable():
            return self._fernet.decrypt(token.encode())

    def is_newest(self, token: str) -> bool:
        """Whether ``token`` opens with the first (newest) key, i.e. needs no older key."""
        try:
            self._newest.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def reseal(self, token: str) -> str:
        """``token``'s plaintext encrypted again with the newest key (ConfigError when no key opens it)."""
        with _readable():
            return self._fernet.rotate(token.encode()).decode()

    def decrypt(self, token: str) -> str:
        with _readable():
            return self._fernet.decrypt(token.encode()).decode()


@contextlib.contextmanager
def _readable() -> Iterator[None]:
    """Fernet's InvalidToken (no configured key opens the value) as our ConfigError, in one wording."""
    try:
        yield
    except InvalidToken as exc:
        raise ConfigError("a stored secret cannot be decrypted with the configured secret key") from exc


def new_token(prefix: str = "imt") -> str:
    """A fresh random API token (shown once, stored only as its hash)."""
    return f"{prefix}_{pysecrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    """SHA-256 of a token: tokens are long random strings, so a fast hash is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()
