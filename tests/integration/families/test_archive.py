"""archive_cpi_day and `integramon archive restore`: NDJSON + manifest, verify before prune, idempotent
reruns, restore with a progress bar; on a local folder and on S3 (moto server mode on loopback)."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import cast

import boto3
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.archive import ArchiveManifest
from core.db.models.base import utcnow
from core.db.models.message_details import MessageCustomHeader
from core.db.models.messages import MessageLog
from core.resources import Resources
from core.settings import Settings, settings_to_env
from core.signing import Signer
from core.storage import LocalObjectStore, open_store
from functions.archive.bundle import MANIFEST_PURPOSE, data_key, manifest_key, sha256
from functions.archive.export import ArchiveVerificationError, archive_day
from functions.archive.jobs import archive_cpi_day
from functions.archive.restore import load_archive, restore_records
from functions.runner.context import JobContext
from integramon.cli import main
from tests.integration.families.conftest import add_logs
from tests.moto_server import FAKE_AWS_ENV, moto_server

OLD_DAY = (utcnow() - timedelta(days=40)).date()
RECENT_DAY = (utcnow() - timedelta(days=2)).date()


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _seed(db: sessionmaker[Session], tenant_id: int) -> list[str]:
    guids = add_logs(
        db,
        tenant_id,
        [
            {
                "log_end": _at(OLD_DAY, h),
                "status": "FAILED" if h % 2 else "COMPLETED",
                "error_text": "boom" if h % 2 else None,
            }
            for h in range(1, 6)
        ],
    )
    add_logs(db, tenant_id, [{"log_end": _at(RECENT_DAY, 3)}, {"log_end": _at(OLD_DAY - timedelta(days=1), 23)}])
    with db.begin() as s:
        s.add_all(
            [
                MessageCustomHeader(tenant_id=tenant_id, message_guid=guids[0], name="po", value="4711"),
                MessageCustomHeader(tenant_id=tenant_id, message_guid=guids[0], name="sender", value="ERP"),
            ]
        )
    return guids


def _count(db: sessionmaker[Session], model: type = MessageLog) -> int:
    with db() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


async def test_archive_verifies_then_prunes_and_reruns_are_idempotent(
    db: sessionmaker[Session], tenant_id: int, resources: Resources, job_ctx: Callable[..., JobContext]
) -> None:
    guids = _seed(db, tenant_id)
    result = await archive_cpi_day(job_ctx("archive_cpi_day"), tenant_id=tenant_id, day=OLD_DAY.isoformat())
    assert (result["messages"], result["uploaded"], result["pruned"]) == (5, True, 5)
    assert _count(db) == 2
    assert _count(db, MessageCustomHeader) == 0

    store = open_store(resources.settings)
    raw = store.get_bytes(data_key(tenant_id, OLD_DAY))
    manifest = json.loads(store.get_bytes(manifest_key(tenant_id, OLD_DAY)))
    assert manifest["sha256"] == sha256(raw) == result["sha256"]
    assert manifest["message_count"] == 5
    assert manifest["detail_counts"]["custom_headers"] == 2
    lines = [json.loads(line) for line in gzip.decompress(raw).splitlines()]
    assert sorted(r["message_guid"] for r in lines) == sorted(guids)
    first = next(r for r in lines if r["message_guid"] == guids[0])
    assert {h["name"] for h in first["details"]["custom_headers"]} == {"po", "sender"}
    with db() as s:
        row = s.scalar(select(ArchiveManifest))
        assert row is not None
        assert row.verified_at is not None
        assert row.pruned_count == 5

    again = await archive_cpi_day(job_ctx("archive_cpi_day"), tenant_id=tenant_id, day=OLD_DAY.isoformat())
    assert (again["messages"], again["uploaded"], again["pruned"], again["sha256"]) == (5, False, 0, result["sha256"])

    late = add_logs(db, tenant_id, [{"log_end": _at(OLD_DAY, 20)}])  # a late row for the archived day
    merged = await archive_cpi_day(job_ctx("archive_cpi_day"), tenant_id=tenant_id, day=OLD_DAY.isoformat())
    assert (merged["messages"], merged["uploaded"], merged["pruned"]) == (6, True, 1)
    assert late[0].encode() in gzip.decompress(store.get_bytes(data_key(tenant_id, OLD_DAY)))


async def test_day_within_retention_is_archived_but_kept(
    db: sessionmaker[Session], tenant_id: int, job_ctx: Callable[..., JobContext]
) -> None:
    _seed(db, tenant_id)
    result = await archive_cpi_day(job_ctx("archive_cpi_day"), tenant_id=tenant_id, day=RECENT_DAY.isoformat())
    assert (result["messages"], result["pruned"]) == (1, 0)
    assert _count(db) == 7


class CorruptingStore(LocalObjectStore):
    """Returns a flipped byte on read: the upload "did not land" as written."""

    def get_bytes(self, key: str) -> bytes:
        data = bytearray(super().get_bytes(key))
        data[-1] ^= 0xFF
        return bytes(data)


async def test_failed_verification_prunes_nothing(
    db: sessionmaker[Session], tenant_id: int, tmp_path: Path, resources: Resources
) -> None:
    _seed(db, tenant_id)
    with pytest.raises(ArchiveVerificationError, match="nothing pruned"):
        archive_day(resources.settings, db, tenant_id, OLD_DAY, store=CorruptingStore(tmp_path / "bad"))
    assert _count(db) == 7
    with db() as s:
        assert s.scalar(select(ArchiveManifest)) is None


async def test_bad_arguments_are_permanent(
    db: sessionmaker[Session], tenant_id: int, job_ctx: Callable[..., JobContext]
) -> None:
    from core.errors import PermanentJobError

    with pytest.raises(PermanentJobError, match="not a date"):
        await archive_cpi_day(job_ctx("archive_cpi_day"), tenant_id=tenant_id, day="yesterday")
    with pytest.raises(PermanentJobError, match="tenant 42"):
        await archive_cpi_day(job_ctx("archive_cpi_day"), tenant_id=42, day="2026-01-01")


@pytest.fixture
def s3_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    with moto_server() as endpoint:
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="archive")
        yield dataclasses.replace(settings, s3_bucket="archive", s3_endpoint_url=endpoint)


async def test_s3_archive_and_cli_restore(
    db: sessionmaker[Session],
    tenant_id: int,
    s3_settings: Settings,
    resources: Resources,
    job_ctx: Callable[..., JobContext],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    guids = _seed(db, tenant_id)
    res = dataclasses.replace(resources, settings=s3_settings)
    result = await archive_cpi_day(job_ctx("archive_cpi_day", res=res), tenant_id=tenant_id, day=OLD_DAY.isoformat())
    assert result["pruned"] == 5
    assert open_store(s3_settings).size(data_key(tenant_id, OLD_DAY)) == result["size_bytes"]

    env = {**os.environ, **settings_to_env(s3_settings), **FAKE_AWS_ENV}
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "integramon", "archive", "restore", "--tenant", "acme", "--day", OLD_DAY.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"restored 5 of 5 archived messages of tenant {tenant_id}" in proc.stdout
    assert "restore" in proc.stderr
    assert "5/5" in proc.stderr
    with db() as s:
        restored = s.scalars(select(MessageLog).where(MessageLog.message_guid.in_(guids))).all()
        headers = s.scalars(select(MessageCustomHeader.value)).all()
    assert len(restored) == 5
    assert sorted(cast("list[str]", headers)) == ["4711", "ERP"]
    assert {r.error_text for r in restored} == {"boom", None}

    for name, value in settings_to_env(s3_settings).items():
        monkeypatch.setenv(name, value)
    assert main(["archive", "restore", "--tenant", str(tenant_id), "--day", OLD_DAY.isoformat(), "--no-progress"]) == 0
    assert "restored 0 of 5 archived messages" in capsys.readouterr().out  # repeatable: nothing doubled
    assert main(["archive", "restore", "--tenant", "acme", "--day", "2020-01-01"]) == 2
    assert main(["archive", "restore", "--tenant", "nobody", "--day", "2020-01-01"]) == 2
    assert main(["archive", "restore", "--tenant", "acme", "--day", "soon"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3
    assert "no stored object" in err[0]
    assert "no such tenant" in err[1]
    assert "not a date" in err[2]


async def test_restore_refuses_a_tampered_archive(db: sessionmaker[Session], tenant_id: int, settings: Settings,
                                                  job_ctx: Callable[..., JobContext],
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _seed(db, tenant_id)
    await archive_cpi_day(job_ctx("archive_cpi_day"), tenant_id=tenant_id, day=OLD_DAY.isoformat())
    store = open_store(settings)
    store.put_bytes(data_key(tenant_id, OLD_DAY), gzip.compress(b'{"message_guid": "forged"}\n'))
    for name, value in settings_to_env(settings).items():
        monkeypatch.setenv(name, value)
    assert main(["archive", "restore", "--tenant", "acme", "--day", OLD_DAY.isoformat()]) == 2
    err = capsys.readouterr().err
    assert "!= manifest" in err
    assert "Traceback" not in err
    with db() as s:
        assert s.scalar(select(MessageLog).where(MessageLog.message_guid == "forged")) is None


async def test_restore_rearchive_prune_cycles_keep_manifest_and_table_consistent(
    db: sessionmaker[Session], tenant_id: int, resources: Resources
) -> None:
    """pruned_count is the number of distinct archived messages not in the table, after every step."""
    _seed(db, tenant_id)
    settings = resources.settings
    store = open_store(settings)

    def check(expected_pruned: int, expected_in_table: int) -> None:
        with db() as s:
            row = s.scalar(select(ArchiveManifest).where(ArchiveManifest.day == OLD_DAY))
            assert row is not None
            in_table = int(s.scalar(select(func.count()).select_from(MessageLog).where(
                MessageLog.log_end >= _at(OLD_DAY, 0), MessageLog.log_end < _at(OLD_DAY, 0) + timedelta(days=1)))
                or 0)
        assert (row.pruned_count, in_table) == (expected_pruned, expected_in_table)
        assert row.pruned_count + in_table == row.message_count  # every archived message is in one place

    def archive(prune: bool) -> int:
        return archive_day(settings, db, tenant_id, OLD_DAY, prune=prune, store=store).pruned

    assert archive(prune=True) == 5
    check(5, 0)
    for cycle in range(3):
        records = load_archive(store, tenant_id, OLD_DAY, Signer(settings, MANIFEST_PURPOSE))
        restored = restore_records(db, tenant_id, records, day=OLD_DAY)
        assert restored.restored == 5 + (cycle > 0)
        check(0, 5 + (cycle > 0))
        archive(prune=False)  # re-archive of the restored day: same content, nothing pruned
        check(0, 5 + (cycle > 0))
        if cycle == 0:
            add_logs(db, tenant_id, [{"log_end": _at(OLD_DAY, 20)}])  # a late arrival joins the day
            archive(prune=False)
            check(0, 6)
        assert archive(prune=True) == 6
        check(6, 0)
