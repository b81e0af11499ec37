"""Design-time content: ``read_packages`` (packages and the iflows in them),
``deep_sync_iflow_artifacts`` (the same plus queueing every zip that changed or is missing) and
``download_iflow`` (one zip into object storage).

Design-time calls are limited to 20/s per tenant (the client's rate limit enforces it), so a zip
is downloaded only when CPI reports a Version other than the one whose zip we hold.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from core.cpi import CpiClient, DesigntimeArtifact, IntegrationPackage
from core.db.models.base import utcnow
from core.db.models.integration_content import IflowArtifact
from core.db.models.integration_content import IntegrationPackage as PackageRow
from core.errors import PermanentJobError
from core.queues.catalog import DEEP_SYNC_IFLOW_ARTIFACTS, DOWNLOAD_IFLOW, READ_PACKAGES
from core.queues.enqueue import EnqueueRequest
from core.storage import ObjectStore, open_store
from functions.ingestion.tenant_api import reports_cpi_calls, tenant_client
from functions.registry import implements
from functions.runner.context import JobContext

__all__ = [
    "bundle_version", "deep_sync_iflow_artifacts", "download_iflow", "iflow_key", "read_packages", "safe_key_part",
]


def safe_key_part(text: str) -> str:
    """One path part of an object key from an id CPI chose: never empty, never ``.``/``..``."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)
    return cleaned if cleaned.strip(".") else f"_{cleaned}"


def iflow_key(tenant_id: int, artifact_id: str, version: str) -> str:
    return f"iflows/{tenant_id}/{safe_key_part(artifact_id)}/{safe_key_part(version)}.zip"


@dataclass(slots=True)
class SyncResult:
    packages: int
    artifacts: int
    outdated: list[tuple[str, str]]  # (artifact id, version) whose stored zip is not that version


async def _fetch_content(cpi: CpiClient) -> tuple[list[IntegrationPackage], list[DesigntimeArtifact]]:
    packages = await cpi.packages()
    artifacts: list[DesigntimeArtifact] = []
    for package in packages:  # sequential on purpose: design-time budget is 20 req/s
        for artifact in await cpi.package_artifacts(package.id):
            artifacts.append(artifact if artifact.package_id else DesigntimeArtifact(
                artifact.id, artifact.version, package.id, artifact.name, artifact.description))
    return packages, artifacts


def _save_content(sessions: sessionmaker[Session], tenant_id: int, packages: list[IntegrationPackage],
                  artifacts: list[DesigntimeArtifact]) -> SyncResult:
    """Mirror the tenant's packages and iflows; rows of content deleted on the tenant go too."""
    now = utcnow()
    with sessions() as session, session.begin():
        known = {p.package_id: p for p in session.scalars(select(PackageRow).where(PackageRow.tenant_id == tenant_id))}
        for pkg in packages:
            row = known.pop(pkg.id, None) or PackageRow(tenant_id=tenant_id, package_id=pkg.id)
            row.name, row.version, row.vendor, row.mode = pkg.name, pkg.version, pkg.vendor, pkg.mode
            row.modified_at, row.extra, row.synced_at = pkg.modified_date, {"short_text": pkg.short_text}, now
            session.add(row)
        for gone in known.values():
            session.delete(gone)
        held = {a.artifact_id: a for a in session.scalars(
            select(IflowArtifact).where(IflowArtifact.tenant_id == tenant_id))}
        for art in artifacts:
            iflow = held.pop(art.id, None) or IflowArtifact(tenant_id=tenant_id, artifact_id=art.id)
            iflow.package_id, iflow.name, iflow.version, iflow.synced_at = art.package_id, art.name, art.version, now
            session.add(iflow)
        if held:
            session.execute(delete(IflowArtifact).where(IflowArtifact.id.in_([r.id for r in held.values()])))
        outdated = [(a.id, a.version or "active") for a in artifacts]
        stored = {r.artifact_id: r.stored_version for r in session.scalars(
            select(IflowArtifact).where(IflowArtifact.tenant_id == tenant_id))}
    outdated = [(aid, ver) for aid, ver in outdated if stored.get(aid) != ver]
    return SyncResult(len(packages), len(artifacts), outdated)


async def _sync(ctx: JobContext, tenant_id: int) -> SyncResult:
    async with tenant_client(ctx.resources, tenant_id) as cpi:
        packages, artifacts = await _fetch_content(cpi)
    return await asyncio.to_thread(_save_content, ctx.resources.sessions, tenant_id, packages, artifacts)


@implements(READ_PACKAGES)
@reports_cpi_calls
async def read_packages(ctx: JobContext, tenant_id: int) -> dict[str, object]:
    """Mirror packages and their iflows (Versions included); downloads nothing."""
    result = await _sync(ctx, tenant_id)
    return {"packages": result.packages, "artifacts": result.artifacts, "outdated": len(result.outdated)}


def _missing_objects(sessions: sessionmaker[Session], tenant_id: int, store: ObjectStore) -> list[tuple[str, str]]:
    """Artifacts whose recorded zip is gone from storage (a wiped bucket or folder)."""
    with sessions() as session:
        rows = session.execute(select(IflowArtifact.artifact_id, IflowArtifact.version, IflowArtifact.object_key)
                               .where(IflowArtifact.tenant_id == tenant_id, IflowArtifact.object_key.is_not(None)))
        held = [(a, v or "active", k) for a, v, k in rows if k]
    return [(a, v) for a, v, k in held if not store.exists(k)]


@implements(DEEP_SYNC_IFLOW_ARTIFACTS)
@reports_cpi_calls
async def deep_sync_iflow_artifacts(ctx: JobContext, tenant_id: int) -> dict[str, object]:
    """Mirror packages and iflows, then queue a download for every zip that changed or is missing."""
    result = await _sync(ctx, tenant_id)
    store = open_store(ctx.settings)
    missing = await asyncio.to_thread(_missing_objects, ctx.resources.sessions, tenant_id, store)
    wanted = dict(result.outdated) | dict(missing)
    requests = [EnqueueRequest(DOWNLOAD_IFLOW, {"tenant_id": tenant_id, "artifact_id": aid},
                               tenant_id=tenant_id, dedup_key=f"ingest:download_iflow:{tenant_id}:{aid}:{version}")
                for aid, version in sorted(wanted.items())]
    queued = await ctx.resources.enqueuer.enqueue_many(requests)
    return {"packages": result.packages, "artifacts": result.artifacts, "outdated": len(result.outdated),
            "missing": len(missing), "downloads_queued": len(queued)}


def bundle_version(data: bytes) -> str | None:
    """``Bundle-Version`` from the zip's META-INF/MANIFEST.MF, when present (the zip's own version)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = archive.read("META-INF/MANIFEST.MF").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile):
        return None
    for line in manifest.splitlines():
        if line.startswith("Bundle-Version:"):
            return line.split(":", 1)[1].strip() or None
    return None


def _load_artifact(sessions: sessionmaker[Session], tenant_id: int, artifact_id: str) -> IflowArtifact:
    with sessions() as session:
        row = session.scalars(select(IflowArtifact).where(
            IflowArtifact.tenant_id == tenant_id, IflowArtifact.artifact_id == artifact_id)).first()
        if row is None:
            raise PermanentJobError(
                f"iflow {artifact_id!r} of tenant {tenant_id} is not known; run read_packages first")
        session.expunge(row)
        return row


def _record_download(sessions: sessionmaker[Session], row_id: int, version: str, key: str, data: bytes) -> None:
    with sessions() as session, session.begin():
        row = session.get(IflowArtifact, row_id)
        if row is None:
            return
        row.stored_version, row.object_key, row.size_bytes = version, key, len(data)
        row.sha256, row.downloaded_at = hashlib.sha256(data).hexdigest(), utcnow()


@implements(DOWNLOAD_IFLOW)
@reports_cpi_calls
async def download_iflow(ctx: JobContext, tenant_id: int, artifact_id: str, force: bool = False) -> dict[str, object]:
    """Store the iflow's zip unless the stored zip already is the current Version (``force`` ignores that)."""
    sessions = ctx.resources.sessions
    store = open_store(ctx.settings)
    row = await asyncio.to_thread(_load_artifact, sessions, tenant_id, artifact_id)
    if (not force and row.object_key and row.stored_version == row.version
            and await asyncio.to_thread(store.exists, row.object_key)):
        return {"artifact": artifact_id, "version": row.version, "downloaded": False}
    async with tenant_client(ctx.resources, tenant_id) as cpi:
        data = await cpi.download_artifact(artifact_id, "active")
    version = row.version or bundle_version(data) or "active"
    key = iflow_key(tenant_id, artifact_id, version)
    await asyncio.to_thread(store.put_bytes, key, data, "application/zip")
    await asyncio.to_thread(_record_download, sessions, row.id, version, key, data)
    return {"artifact": artifact_id, "version": version, "downloaded": True, "bytes": len(data)}
