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


def _resign(settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
            *words: str) -> tuple[int, str]:
    for name, value in settings_to_env(settings).items():
        monkeypatch.setenv(name, value)
    code = main(["archive", "resign", "--no-progress", *words])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out


async def test_resign_moves_old_manifests_to_the_newest_key_and_refuses_unsigned_ones(
    db: sessionmaker[Session], tenant_id: int, settings: Settings,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """After ``archive resign`` the old key can go: restore works with the new key alone. A manifest
    that is unsigned (or verified by no configured key) is named, left as it is, and exits 1."""
    from functions.archive.export import archive_day

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    _seed(db, tenant_id)
    archive_day(dataclasses.replace(settings, secret_key=old_key), db, tenant_id, OLD_DAY, prune=False)
    rotated = dataclasses.replace(settings, secret_key=f"{new_key},{old_key}")
    store = open_store(settings)
    store.put_bytes("archive/tenant=999/day=2001-01-01/manifest.json", b'{"sha256": "00"}')  # unsigned
    before = store.get_bytes(manifest_key(tenant_id, OLD_DAY))

    code, out = _resign(rotated, monkeypatch, capsys, "--dry-run")
    assert code == 1, out
    assert "2 manifest(s): 0 already signed with the newest key, 1 to sign again, 1 refused" in out
    assert "archive/tenant=999/day=2001-01-01/manifest.json" in out
    assert store.get_bytes(manifest_key(tenant_id, OLD_DAY)) == before

    code, out = _resign(rotated, monkeypatch, capsys)
    assert code == 1, out
    assert "1 signed again, 1 refused" in out
    assert store.get_bytes("archive/tenant=999/day=2001-01-01/manifest.json") == b'{"sha256": "00"}'
    resigned = json.loads(store.get_bytes(manifest_key(tenant_id, OLD_DAY)))
    assert unsigned(resigned) == unsigned(json.loads(before))  # only the signature changed

    store.delete("archive/tenant=999/day=2001-01-01/manifest.json")
    code, out = _resign(rotated, monkeypatch, capsys)
    assert code == 0, out
    assert "1 manifest(s): 1 already signed with the newest key, 0 signed again, 0 refused" in out
    code, err = _restore(dataclasses.replace(settings, secret_key=new_key), monkeypatch, capsys)
    assert code == 0, err
