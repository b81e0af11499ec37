"""The object store interface shared by the S3 and local-folder backends."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["ObjectStore"]


@runtime_checkable
class ObjectStore(Protocol):
    """Bytes under string keys. Writes replace whole objects atomically (readers never see half)."""

    @property
    def location(self) -> str:
        """Where objects go, for logs and the console (``s3://bucket`` or a folder path)."""
        ...

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Store ``data`` under ``key``, replacing any previous object."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """The object's bytes; raises StorageNotFound when there is none."""
        ...

    def exists(self, key: str) -> bool:
        ...

    def size(self, key: str) -> int:
        """Size in bytes; raises StorageNotFound when there is no object."""
        ...

    def list_keys(self, prefix: str = "") -> list[str]:
        """Every key starting with ``prefix`` (plain string prefix), sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error (idempotent)."""
        ...
