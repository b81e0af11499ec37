"""Archive bundle format: gzip'd NDJSON (sorted by message guid, gzip mtime 0, so identical content
gives identical bytes and checksum) and a JSON manifest with counts and the sha256 of the data object."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from datetime import date
from typing import Any

__all__ = ["FORMAT", "Bundle", "data_key", "decode", "encode", "manifest_key", "sha256"]

FORMAT = "ndjson+gzip/v1"


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

    @property
    def manifest_bytes(self) -> bytes:
        return json.dumps(self.manifest, indent=2, sort_keys=True).encode()


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
            records[record["message_guid"]] = record
    return records
