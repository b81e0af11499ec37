"""Object store on S3 or any S3-compatible endpoint (MinIO, moto), through boto3.

Credentials come from boto3's usual chain (environment, profile, task role); they are never in
our settings. A custom endpoint uses path-style addressing, which every S3 clone understands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from core.storage.errors import StorageError, StorageNotFound
from core.storage.keys import validate_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["S3ObjectStore"]

_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}


class S3ObjectStore:
    """Objects in one bucket, keys optionally under a fixed prefix."""

    def __init__(self, bucket: str, *, endpoint_url: str = "", region: str = "us-east-1",
                 client: S3Client | None = None) -> None:
        if not bucket:
            raise StorageError("S3 storage needs a bucket name (INTEGRAMON_S3_BUCKET)")
        self._bucket = bucket
        self._client: S3Client = client or self._make_client(endpoint_url, region)

    @staticmethod
    def _make_client(endpoint_url: str, region: str) -> S3Client:
        # Imported here: boto3 takes most of a second to import, and only S3 deployments need it.
        import boto3
        from botocore.config import Config

        options: dict[str, Any] = {"retries": {"max_attempts": 4, "mode": "standard"},
                                   "connect_timeout": 5, "read_timeout": 60}
        if endpoint_url:
            options["s3"] = {"addressing_style": "path"}
        return boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None, config=Config(**options))

    @property
    def location(self) -> str:
        return f"s3://{self._bucket}"

    def _fail(self, action: str, key: str, exc: Exception) -> StorageError:
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING_CODES:
                return StorageNotFound(key)
            if code == "NoSuchBucket":
                return StorageError(f"S3 bucket {self._bucket!r} does not exist")
            message = exc.response.get("Error", {}).get("Message", "") or code
            return StorageError(f"S3 {action} of {key!r} in {self._bucket!r} failed: {code} {message}".strip())
        return StorageError(f"S3 {action} of {key!r} in {self._bucket!r} failed: {exc}")

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        try:
            self._client.put_object(Bucket=self._bucket, Key=validate_key(key), Body=data, ContentType=content_type)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("upload", key, exc) from exc

    def get_bytes(self, key: str) -> bytes:
        try:
            reply = self._client.get_object(Bucket=self._bucket, Key=validate_key(key))
            return reply["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("download", key, exc) from exc

    def _head(self, key: str) -> int:
        try:
            reply = self._client.head_object(Bucket=self._bucket, Key=validate_key(key))
            return int(reply["ContentLength"])
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("lookup", key, exc) from exc

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except StorageNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        return self._head(key)

    def list_keys(self, prefix: str = "") -> list[str]:
        keys: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix)
            for page in pages:
                keys.extend(obj["Key"] for obj in page.get("Contents", []) if "Key" in obj)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("listing", prefix, exc) from exc
        return sorted(keys)

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=validate_key(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("delete", key, exc) from exc
