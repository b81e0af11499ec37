"""Archive one tenant-day: merge with what is already archived, upload, read back and verify, then
prune the archived rows when the day is past retention.

A rerun is idempotent: identical content gives identical bytes, so nothing is re-uploaded, and rows
that arrived after a prune are merged into the existing archive instead of replacing it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.config_keys import read_int
from core.db.models.archive import ArchiveManifest
from core.db.models.base import utcnow
from core.db.models.messages import MessageLog
from core.errors import PermanentJobError
from core.settings import Settings
from core.signing import Signer
from core.storage import ObjectStore, StorageNotFound, open_store
from functions.archive.bundle import MANIFEST_PURPOSE, Bundle, data_key, decode, manifest_key, sha256
from functions.archive.records import DETAIL_MODELS, details_for, guid_in, to_record
from functions.periodic.retention import day_bounds

__all__ = ["ArchiveResult", "ArchiveVerificationError", "archive_day", "collect_records", "count_pruned"]

BATCH = 900  # under SQLite's 999 bound-variable limit (PostgreSQL gets one array parameter per chunk)


class ArchiveVerificationError(PermanentJobError):
    """The object read back differs from what was written: nothing is pruned."""


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    messages: int
    uploaded: bool
    pruned: int
    sha256: str
    size_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {"messages": self.messages, "uploaded": self.uploaded, "pruned": self.pruned,
                "sha256": self.sha256, "size_bytes": self.size_bytes}


def collect_records(session: Session, tenant_id: int, day: date) -> dict[str, dict[str, Any]]:
    """guid -> archive record for every stored log of the tenant-day (by LogEnd)."""
    start, end = day_bounds(day)
    table = MessageLog.__table__
    logs = list(session.execute(select(table).where(
        table.c.tenant_id == tenant_id, table.c.log_end >= start, table.c.log_end < end).order_by(table.c.id)))
    records: dict[str, dict[str, Any]] = {}
    for offset in range(0, len(logs), BATCH):
        chunk = logs[offset:offset + BATCH]
        details = details_for(session, tenant_id, [log.message_guid for log in chunk])
        for log in chunk:
            records[log.message_guid] = to_record(log, details.get(log.message_guid))
    return records


def _existing(store: ObjectStore, key: str) -> tuple[bytes | None, dict[str, dict[str, Any]]]:
    try:
        raw = store.get_bytes(key)
    except StorageNotFound:
        return None, {}
    return raw, decode(raw)


def _verify(store: ObjectStore, bundle: Bundle) -> None:
    key = bundle.manifest["data_key"]
    size, back = store.size(key), store.get_bytes(key)
    if size != len(bundle.data) or sha256(back) != bundle.manifest["sha256"]:
        raise ArchiveVerificationError(f"archive {key} read back with size {size} and sha256 {sha256(back)}, "
                                       f"expected {len(bundle.data)} / {bundle.manifest['sha256']}; nothing pruned")


def _record_manifest(session: Session, bundle: Bundle, location: str) -> ArchiveManifest:
    row = session.scalar(select(ArchiveManifest).where(
        ArchiveManifest.tenant_id == bundle.tenant_id, ArchiveManifest.day == bundle.day).with_for_update())
    if row is None:
        row = ArchiveManifest(tenant_id=bundle.tenant_id, day=bundle.day)
        session.add(row)
    row.data_key, row.manifest_key = bundle.manifest["data_key"], manifest_key(bundle.tenant_id, bundle.day)
    row.message_count, row.size_bytes = bundle.manifest["message_count"], bundle.manifest["size_bytes"]
    row.sha256, row.store_location, row.verified_at = bundle.manifest["sha256"], location, utcnow()
    return row


def _prune(session: Session, tenant_id: int, guids: list[str]) -> int:
    """Delete the archived logs and their detail rows (only those guids: newer rows stay)."""
    pruned = 0
    for offset in range(0, len(guids), BATCH):
        chunk = guids[offset:offset + BATCH]
        for model in DETAIL_MODELS.values():
            session.execute(delete(model).where(model.tenant_id == tenant_id,
                                                guid_in(session, model.message_guid, chunk)))
        result = session.execute(delete(MessageLog).where(
            MessageLog.tenant_id == tenant_id, guid_in(session, MessageLog.message_guid, chunk)))
        pruned += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return pruned


def count_pruned(session: Session, tenant_id: int, archived: list[str]) -> int:
    """``archive_manifest.pruned_count``: archived messages (distinct guids) not in the database now.

    Derived from the archive and the table rather than added up per run, so archive -> prune -> restore
    -> re-archive -> prune cycles cannot count a message twice (a restore brings it back to 0).
    """
    present = 0
    for offset in range(0, len(archived), BATCH):
        chunk = archived[offset:offset + BATCH]
        present += int(session.scalar(select(func.count()).select_from(MessageLog).where(
            MessageLog.tenant_id == tenant_id, guid_in(session, MessageLog.message_guid, chunk))) or 0)
    return len(archived) - present


def _unchanged(store: ObjectStore, tenant_id: int, day: date) -> ArchiveResult:
    try:
        manifest = json.loads(store.get_bytes(manifest_key(tenant_id, day)))
    except StorageNotFound:
        return ArchiveResult(0, False, 0, "", 0)
    return ArchiveResult(int(manifest["message_count"]), False, 0, str(manifest["sha256"]),
                         int(manifest["size_bytes"]))


def past_retention(session: Session, tenant_id: int, day: date) -> bool:
    return day < utcnow().date() - timedelta(days=read_int(session, "retention.message_log_days", tenant_id))


def archive_day(settings: Settings, sessions: sessionmaker[Session], tenant_id: int, day: date,
                prune: bool | None = None, store: ObjectStore | None = None) -> ArchiveResult:
    """Archive and verify; prune when ``prune`` is True, or (None) when the day is past retention."""
    store = store or open_store(settings)
    with sessions() as session:
        current = collect_records(session, tenant_id, day)
    if not current:  # nothing (left) in the database: whatever was archived stays as it is
        return _unchanged(store, tenant_id, day)
    raw, archived = _existing(store, data_key(tenant_id, day))
    merged = {**archived, **current}
    if not merged:
        return ArchiveResult(0, False, 0, "", 0)
    bundle = Bundle(tenant_id, day, merged)
    bundle.sign(Signer(settings, MANIFEST_PURPOSE))  # restore refuses unsigned or altered manifests
    uploaded = raw is None or sha256(raw) != bundle.manifest["sha256"]
    if uploaded:
        store.put_bytes(bundle.manifest["data_key"], bundle.data, "application/gzip")
    store.put_bytes(manifest_key(tenant_id, day), bundle.manifest_bytes, "application/json")
    _verify(store, bundle)
    with sessions.begin() as session:
        manifest = _record_manifest(session, bundle, store.location)
        should_prune = past_retention(session, tenant_id, day) if prune is None else prune
        pruned = _prune(session, tenant_id, sorted(current)) if should_prune else 0
        manifest.pruned_count = count_pruned(session, tenant_id, sorted(merged))
    return ArchiveResult(len(merged), uploaded, pruned, bundle.manifest["sha256"], len(bundle.data))


def stored_count(session: Session, tenant_id: int, day: date) -> int:
    """Logs of the tenant-day still in the database."""
    start, end = day_bounds(day)
    return int(session.scalar(select(func.count()).select_from(MessageLog).where(
        MessageLog.tenant_id == tenant_id, MessageLog.log_end >= start, MessageLog.log_end < end)) or 0)
