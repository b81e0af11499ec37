"""Storage errors, wrapped from boto3 / OS errors so callers see one clear line."""

from __future__ import annotations

from core.errors import ServiceUnavailable

__all__ = ["StorageError", "StorageNotFound"]


class StorageError(ServiceUnavailable):
    """The object store refused or could not be reached (bad bucket, credentials, disk full ...)."""


class StorageNotFound(StorageError):
    """No object exists under the requested key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no stored object under key {key!r}")
        self.key = key
