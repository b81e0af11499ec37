"""Keys derived from INTEGRAMON_SECRET_KEY for signing things we write and read back later.

A derived key per purpose (HMAC-SHA256 of the secret key and the purpose label) means a signature
made for archive manifests can never be replayed as anything else, and the Fernet key itself is never
used for two jobs. When ``INTEGRAMON_SECRET_KEY`` lists several keys (comma-separated, newest first)
we sign with the first and accept any, so rotating the key does not orphan old archives; ``integramon
archive resign`` signs old manifests again with the first key before an older one is dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from core.secrets import SecretBox
from core.settings import Settings

__all__ = ["Signer"]


def _key_material(settings: Settings) -> list[bytes]:
    if settings.secret_key:
        return [k.strip().encode() for k in settings.secret_key.split(",") if k.strip()]
    SecretBox(settings)  # the embedded mode's key file is created on first use
    return [(Path(settings.data_dir) / "secret.key").read_bytes().strip()]


def _canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


class Signer:
    """HMAC-SHA256 signatures of JSON documents for one ``purpose``."""

    def __init__(self, settings: Settings, purpose: str) -> None:
        label = f"integramon/{purpose}".encode()
        self._keys = [hmac.new(material, label, hashlib.sha256).digest() for material in _key_material(settings)]

    def sign(self, document: dict[str, Any]) -> str:
        """Hex signature of ``document`` (key order and whitespace do not matter)."""
        return hmac.new(self._keys[0], _canonical(document), hashlib.sha256).hexdigest()

    def is_newest(self, document: dict[str, Any], signature: object) -> bool:
        """Whether ``signature`` was made with the newest key (``verify`` accepts every configured key)."""
        return isinstance(signature, str) and hmac.compare_digest(self.sign(document), signature)

    def verify(self, document: dict[str, Any], signature: object) -> bool:
        if not isinstance(signature, str):
            return False
        body = _canonical(document)
        return any(hmac.compare_digest(hmac.new(key, body, hashlib.sha256).hexdigest(), signature)
                   for key in self._keys)
