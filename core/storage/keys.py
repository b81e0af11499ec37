"""Object keys are relative, slash-separated paths; both backends accept the same set."""

from __future__ import annotations

from core.storage.errors import StorageError

__all__ = ["validate_key"]


def validate_key(key: str) -> str:
    """Return ``key`` unchanged, or raise StorageError when it could escape the local folder or
    would mean different objects on S3 and on disk (empty parts, ``..``, a leading slash)."""
    if not key or key.startswith("/") or key.endswith("/"):
        raise StorageError(f"invalid object key {key!r}: must be a relative path like 'a/b.zip'")
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts) or "\\" in key or "\x00" in key:
        raise StorageError(f"invalid object key {key!r}: empty, '.' or '..' path parts are not allowed")
    return key
