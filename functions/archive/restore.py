"""Read an archived tenant-day back into the database (``integramon archive restore``).

The data object is checked against its manifest (sha256, count) before anything is written; logs
already in the database are left alone, so a restore can be repeated safely.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.archive import ArchiveManifest
from core.db.models.messages import MessageLog
from core.errors import IntegraMonError
from core.signing import Signer
from core.storage import ObjectStore
from functions.archive.bundle import SIGNATURE_FIELD, data_key, decode, manifest_key, sha256, unsigned
from functions.archive.export import count_pruned
from functions.archive.records import detail_values, log_values

__all__ = ["ArchiveCorrupt", "RestoreResult", "load_archive", "restore_records"]

BATCH = 500


class ArchiveCorrupt(IntegraMonError):
    """The archived data does not match its manifest."""


@dataclass(frozen=True, slots=True)
class RestoreResult:
    archived: int
    restored: int
    already_present: int


def load_archive(store: ObjectStore, tenant_id: int, day: date, signer: Signer) -> dict[str, dict[str, Any]]:
    """The records of a tenant-day, verified against the manifest, whose signature is checked first
    (raises StorageNotFound / ArchiveCorrupt)."""
    key = data_key(tenant_id, day)
    try:
        manifest = json.loads(store.get_bytes(manifest_key(tenant_id, day)))
        expected = str(manifest["sha256"])
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ArchiveCorrupt(f"{manifest_key(tenant_id, day)} is not a readable manifest: {exc}") from None
    if SIGNATURE_FIELD not in manifest:
        raise ArchiveCorrupt(f"{manifest_key(tenant_id, day)} is not signed; refusing to restore it")
    if not signer.verify(unsigned(manifest), manifest[SIGNATURE_FIELD]):
        raise ArchiveCorrupt(f"{manifest_key(tenant_id, day)}: signature does not match (altered, or signed "
                             "with another INTEGRAMON_SECRET_KEY); refusing to restore it")
    if manifest.get("tenant_id") != tenant_id or manifest.get("day") != day.isoformat():
        raise ArchiveCorrupt(f"{manifest_key(tenant_id, day)} belongs to another tenant-day")
    raw = store.get_bytes(key)
    if sha256(raw) != expected:
        raise ArchiveCorrupt(f"{key}: sha256 {sha256(raw)} != manifest {expected}")
    try:
        records = decode(raw)
    except (OSError, EOFError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ArchiveCorrupt(f"{key} cannot be decoded: {exc}") from exc
    if len(records) != manifest.get("message_count"):
        raise ArchiveCorrupt(f"{key}: {len(records)} messages, manifest says {manifest.get('message_count')}")
    return records


def _batches(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for offset in range(0, len(items), BATCH):
        yield items[offset:offset + BATCH]


def _restore_batch(session: Session, tenant_id: int, batch: list[dict[str, Any]]) -> int:
    guids = [r["message_guid"] for r in batch]
    present = set(session.scalars(select(MessageLog.message_guid).where(
        MessageLog.tenant_id == tenant_id, MessageLog.message_guid.in_(guids))))
    missing = [r for r in batch if r["message_guid"] not in present]
    if missing:
        session.execute(insert(MessageLog), [log_values(r, tenant_id) for r in missing])
    for record in missing:
        for model, values in detail_values(record, tenant_id):
            session.execute(insert(model), [values])
    return len(missing)


def _recount(sessions: sessionmaker[Session], tenant_id: int, day: date, guids: list[str]) -> None:
    """Keep the day's ``archive_manifest.pruned_count`` equal to its archived messages not in the table."""
    with sessions.begin() as session:
        row = session.scalar(select(ArchiveManifest).where(
            ArchiveManifest.tenant_id == tenant_id, ArchiveManifest.day == day).with_for_update())
        if row is not None:
            row.pruned_count = count_pruned(session, tenant_id, guids)


def restore_records(sessions: sessionmaker[Session], tenant_id: int, records: dict[str, dict[str, Any]],
                    on_progress: Callable[[int], object] | None = None, day: date | None = None) -> RestoreResult:
    """Insert the archived logs (and details) that are not in the database; one transaction per batch.
    With ``day``, the tenant-day's manifest row is brought up to date afterwards."""
    restored = 0
    ordered = [records[g] for g in sorted(records)]
    for batch in _batches(ordered):
        with sessions.begin() as session:
            restored += _restore_batch(session, tenant_id, batch)
        if on_progress:
            on_progress(len(batch))
    if day is not None:
        _recount(sessions, tenant_id, day, sorted(records))
    return RestoreResult(len(records), restored, len(records) - restored)
