"""Choose the object store from settings: S3 when a bucket is configured, else the local folder."""

from __future__ import annotations

from core.settings import Settings
from core.storage.local import LocalObjectStore
from core.storage.protocol import ObjectStore
from core.storage.s3 import S3ObjectStore

__all__ = ["open_store"]


def open_store(settings: Settings) -> ObjectStore:
    """The configured object store (cheap to build; one per process or per job is fine)."""
    if settings.s3_bucket:
        return S3ObjectStore(settings.s3_bucket, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region)
    return LocalObjectStore(settings.resolved_archive_dir)
