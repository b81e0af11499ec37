"""Object storage for archives and iflow zips: S3 (any endpoint, via boto3) or a local folder.

One small API (:class:`ObjectStore`) so the archive and ingestion code never care where bytes
live. The methods are blocking (boto3 is); call them with ``asyncio.to_thread`` from async code.
``open_store(settings)`` picks S3 when ``s3_bucket`` is set, the local folder otherwise.
"""

from __future__ import annotations

from core.storage.errors import StorageError, StorageNotFound
from core.storage.factory import open_store
from core.storage.keys import validate_key
from core.storage.local import LocalObjectStore
from core.storage.protocol import ObjectStore
from core.storage.s3 import S3ObjectStore

__all__ = [
    "LocalObjectStore",
    "ObjectStore",
    "S3ObjectStore",
    "StorageError",
    "StorageNotFound",
    "open_store",
    "validate_key",
]
