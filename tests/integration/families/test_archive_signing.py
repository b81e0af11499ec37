"""Archive manifests are signed with a key derived from INTEGRAMON_SECRET_KEY; restore refuses an
unsigned, altered or foreign one, one line and no traceback (issue 12, item 7)."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.messages import MessageLog
from core.settings import Settings, settings_to_env
from core.signing import Signer
from core.storage import open_store
from functions.archive.bundle import MANIFEST_PURPOSE, data_key, manifest_key, sha256, sign_manifest, unsigned
from functions.archive.jobs import archive_cpi_day
from functions.runner.context import JobContext
from integramon.cli import main
from tests.integration.families.test_archive import OLD_DAY, _seed


def _restore(settings: Settings, monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    for name, value in settings_to_env(settings).items():
        monkeypatch.setenv(name, value)
    code = main(["archive", "restore", "--tenant", "acme", "--day", OLD_DAY.isoformat(), "--no-progress"])
    return code, capsys.readouterr().err


async def _archived(db: sessionmaker[Session], tenant_id: int, job_ctx: Callable[..., JobContext]) -> None:
    _seed(db, tenant_id)
    await archive_cpi_day(job_ctx("archive_cpi_day"), tenant_id=tenant_id, day=OLD_DAY.isoformat())


def _forged(db: sessionmaker[Session]) -> bool:
    with db() as s:
        return s.scalar(select(MessageLog).where(MessageLog.message_guid == "forged")) is not None


async def test_a_manifest_is_signed_and_restores(db: sessionmaker[Session], tenant_id: int, settings: Settings,
                                                 job_ctx: Callable[..., JobContext],
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    await _archived(db, tenant_id, job_ctx)
    manifest = json.loads(open_store(settings).get_bytes(manifest_key(tenant_id, OLD_DAY)))
    assert Signer(settings, MANIFEST_PURPOSE).verify(unsigned(manifest), manifest["signature"])
    code, err = _restore(settings, monkeypatch, capsys)
    assert code == 0, err


@pytest.mark.parametrize("tamper", ["unsigned", "resigned_by_attacker", "sha_rewritten", "other_day"])
async def test_restore_refuses_unsigned_or_mismatched_manifests(
    db: sessionmaker[Session], tenant_id: int, settings: Settings, job_ctx: Callable[..., JobContext],
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tamper: str
) -> None:
    await _archived(db, tenant_id, job_ctx)
    store = open_store(settings)
    forged = gzip.compress(b'{"message_guid": "forged"}\n')
    manifest = json.loads(store.get_bytes(manifest_key(tenant_id, OLD_DAY)))
    if tamper == "unsigned":  # the old unkeyed format: sha256 only, which anyone can recompute
        store.put_bytes(data_key(tenant_id, OLD_DAY), forged)
        manifest = {**unsigned(manifest), "sha256": sha256(forged), "message_count": 1}
    elif tamper == "resigned_by_attacker":
        store.put_bytes(data_key(tenant_id, OLD_DAY), forged)
        manifest = {**unsigned(manifest), "sha256": sha256(forged), "message_count": 1}
        other = dataclasses.replace(settings, secret_key=Fernet.generate_key().decode())
        sign_manifest(manifest, Signer(other, MANIFEST_PURPOSE))
    elif tamper == "sha_rewritten":
        store.put_bytes(data_key(tenant_id, OLD_DAY), forged)
        manifest = {**manifest, "sha256": sha256(forged), "message_count": 1}
    else:
        manifest = {**manifest, "day": "2001-01-01"}
    store.put_bytes(manifest_key(tenant_id, OLD_DAY), json.dumps(manifest).encode())
    code, err = _restore(settings, monkeypatch, capsys)
    assert code == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert ("not signed" if tamper == "unsigned" else "signature does not match") in err
    assert not _forged(db)


async def test_a_rotated_key_list_still_restores_old_archives(
    db: sessionmaker[Session], tenant_id: int, settings: Settings, job_ctx: Callable[..., JobContext],
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old_key = Fernet.generate_key().decode()
    signed_with_old = dataclasses.replace(settings, secret_key=old_key)
    _seed(db, tenant_id)
    from functions.archive.export import archive_day

    archive_day(signed_with_old, db, tenant_id, OLD_DAY, prune=False)
    rotated = dataclasses.replace(settings, secret_key=f"{Fernet.generate_key().decode()},{old_key}")
    code, err = _restore(rotated, monkeypatch, capsys)
    assert code == 0, err
    stranger = dataclasses.replace(settings, secret_key=Fernet.generate_key().decode())
    code, err = _restore(stranger, monkeypatch, capsys)
    assert code == 2
    assert "signature does not match" in err
