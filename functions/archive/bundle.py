"""Archive bundle format: gzip'd NDJSON (sorted by message guid, gzip mtime 0, so identical content
gives identical bytes and checksum) and a JSON manifest with counts and the sha256 of the data object.

The manifest is signed (``signature``: HMAC-SHA256 with a key derived from INTEGRAMON_SECRET_KEY,
core.signing) so restore can tell our archives from ones written or altered by anyone with bucket
access: a bare sha256 only proves the data matches a manifest the same person could rewrite."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from datetime import date
from typing import Any

from core.signing import Signer

__all__ = ["FORMAT", "MANIFEST_PURPOSE", "SIGNATURE_FIELD", "Bundle", "data_key", "decode", "encode", "encode_manifest",
           "manifest_key", "sha256", "sign_manifest", "unsigned"]

FORMAT = "ndjson+gzip/v1"
MANIFEST_PURPOSE = "archive-manifest/v1"
SIGNATURE_FIELD = "signature"


def data_key(tenant_id: int, day: date) -> str:
    return f"archive/tenant={tenant_id}/day={day.isoformat()}/messages.ndjson.gz"


def manifest_key(tenant_id: int, day: date) -> str:
    return f"archive/tenant={tenant_id}/day={day.isoformat()}/manifest.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Bundle:
    """Encoded data of one tenant-day and its manifest."""

    def __init__(self, tenant_id: int, day: date, records: dict[str, dict[str, Any]]) -> None:
        self.tenant_id, self.day = tenant_id, day
        self.data = encode(records)
        details: dict[str, int] = {}
        for record in records.values():
            for kind, rows in record.get("details", {}).items():
                details[kind] = details.get(kind, 0) + len(rows)
        self.manifest: dict[str, Any] = {
            "format": FORMAT, "tenant_id": tenant_id, "day": day.isoformat(), "message_count": len(records),
            "detail_counts": details, "data_key": data_key(tenant_id, day), "size_bytes": len(self.data),
            "sha256": sha256(self.data),
        }

    def sign(self, signer: Signer) -> None:
        sign_manifest(self.manifest, signer)

    @property
    def manifest_bytes(self) -> bytes:
        return encode_manifest(self.manifest)


def encode_manifest(manifest: dict[str, Any]) -> bytes:
    """A manifest as it is stored (one layout, for export and for ``archive resign``)."""
    return json.dumps(manifest, indent=2, sort_keys=True).encode()


def unsigned(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest as it was signed (without its signature)."""
    return {k: v for k, v in manifest.items() if k != SIGNATURE_FIELD}


def sign_manifest(manifest: dict[str, Any], signer: Signer) -> None:
    manifest[SIGNATURE_FIELD] = signer.sign(unsigned(manifest))


def encode(records: dict[str, dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as out:
        for guid in sorted(records):
            out.write(json.dumps(records[guid], sort_keys=True, separators=(",", ":")).encode() + b"\n")
    return buffer.getvalue()


def decode(data: bytes) -> dict[str, dict[str, Any]]:
    """guid -> record of an archived data object."""
    records: dict[str, dict[str, Any]] = {}
    for line in gzip.decompress(data).splitlines():
        if line.strip():
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("message_guid"), str):
                raise ValueError("an archived line is not a message record")
            records[record["message_guid"]] = record
    return records
