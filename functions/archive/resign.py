"""Sign archive manifests again with the newest INTEGRAMON_SECRET_KEY before an older key is dropped.

Restore accepts a manifest signed with any configured key, so after a key rotation old archives
restore as long as the old key stays listed. To drop it, every manifest it signed must be signed
again: this walks the store's manifests, re-signs each one whose signature an older configured key
made, and leaves alone (and names) what it must not bless: an unsigned manifest (anyone with bucket
access could have written it) and one no configured key verifies (altered, or another installation's).
Only the signature changes; the data object and its checksum are not read or rewritten.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from core.signing import Signer
from core.storage.protocol import ObjectStore
from functions.archive.bundle import SIGNATURE_FIELD, encode_manifest, sign_manifest, unsigned

__all__ = ["ARCHIVE_PREFIX", "ResignReport", "manifest_keys", "resign_manifests"]

ARCHIVE_PREFIX = "archive/"
MANIFEST_NAME = "manifest.json"
REFUSED_NAMED = 10  # keys of refused manifests kept for the report


@dataclass(slots=True)
class ResignReport:
    manifests: int = 0
    newest: int = 0  # already signed with the newest key
    resigned: int = 0  # signed again (with ``dry_run``: would be)
    refused: int = 0  # unsigned, unreadable, or verified by no configured key
    refused_keys: list[str] = field(default_factory=list)


def manifest_keys(store: ObjectStore) -> list[str]:
    """Every archive manifest in the store."""
    return [key for key in store.list_keys(ARCHIVE_PREFIX) if key.rsplit("/", 1)[-1] == MANIFEST_NAME]


def resign_manifests(store: ObjectStore, signer: Signer, keys: list[str], *, dry_run: bool = False,
                     progress: Callable[[int], object] | None = None) -> ResignReport:
    report = ResignReport()
    for key in keys:
        report.manifests += 1
        try:
            manifest = json.loads(store.get_bytes(key))
            signature = manifest[SIGNATURE_FIELD] if isinstance(manifest, dict) else None
        except (ValueError, KeyError, RecursionError):
            signature = None
        if signature is not None and signer.is_newest(unsigned(manifest), signature):
            report.newest += 1
        elif signature is not None and signer.verify(unsigned(manifest), signature):
            if not dry_run:
                sign_manifest(manifest, signer)
                store.put_bytes(key, encode_manifest(manifest), content_type="application/json")
            report.resigned += 1
        else:
            report.refused += 1
            if len(report.refused_keys) < REFUSED_NAMED:
                report.refused_keys.append(key)
        if progress is not None:
            progress(1)
    return report
