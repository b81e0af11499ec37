"""``integramon secrets rotate`` seals every stored secret again with the newest key, so an older key
can be dropped: values an older key sealed are re-sealed (same plaintext, ``updated_at`` untouched),
values already on the newest key are left alone, what no key opens is named and makes the exit code 1,
a concurrent save is never overwritten, and ``--dry-run`` writes nothing."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.alerting import AlertRule
from core.db.models.auth import AuditLog
from core.db.models.ledger import WorkerJobRun
from core.db.models.scheduling import JobConfig
from core.db.models.tenants import Tenant
from core.key_rotation import SEALED_COLUMNS, reseal_column
from core.secrets import SecretBox
from core.settings import Settings, settings_to_env
from integramon.cli import main

OLD, NEW, STRANGER = (Fernet.generate_key().decode() for _ in range(3))
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def _box(settings: Settings, keys: str) -> SecretBox:
    return SecretBox(dataclasses.replace(settings, secret_key=keys))


def _seed(db: sessionmaker[Session], settings: Settings) -> dict[str, int]:
    """One value of every sealed column under the old key, a second tenant already on the new key,
    and a schedule sealed with a key nobody configured."""
    old, new, stranger = _box(settings, OLD), _box(settings, NEW), _box(settings, STRANGER)
    with db() as s, s.begin():
        acme = Tenant(name="acme", api_url="https://a.example", client_id="c", updated_at=LONG_AGO,
                      client_secret_encrypted=old.encrypt("acme-secret"))
        fresh = Tenant(name="fresh", api_url="https://f.example", client_id="c",
                       client_secret_encrypted=new.encrypt("fresh-secret"))
        s.add_all([acme, fresh])
        s.flush()
        schedule = JobConfig(name="with-token", function="noop", args={"token": "***"}, updated_at=LONG_AGO,
                             args_sealed=old.encrypt('{"token": "t-1"}'))
        lost = JobConfig(name="lost", function="noop", args={"token": "***"},
                         args_sealed=stranger.encrypt('{"token": "t-2"}'))
        rule = AlertRule(name="hook", tenant_id=acme.id, condition="failed_messages", updated_at=LONG_AGO,
                         channels=[{"type": "webhook", "url": "https://h.example/***"}],
                         channels_sealed=old.encrypt('[{"type": "webhook", "url": "https://h.example/x"}]'))
        run = WorkerJobRun(arq_job_id="j-1", queue="periodic_run", function="noop", args_redacted={"token": "***"},
                           status="succeeded", attempt=1, max_attempts=1, enqueued_at=LONG_AGO,
                           updated_at=LONG_AGO, args_sealed=old.encrypt('{"token": "t-3"}'))
        s.add_all([schedule, lost, rule, run])
        s.flush()
        return {"acme": acme.id, "fresh": fresh.id, "schedule": schedule.id, "lost": lost.id, "rule": rule.id}


def _run(settings: Settings, keys: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
         *words: str) -> tuple[int, str]:
    for name, value in settings_to_env(dataclasses.replace(settings, secret_key=keys)).items():
        monkeypatch.setenv(name, value)
    code = main(["secrets", "rotate", "--no-progress", *words])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out


def _tokens(db: sessionmaker[Session]) -> dict[str, str | None]:
    with db() as s:
        return {
            "acme": s.scalar(select(Tenant.client_secret_encrypted).where(Tenant.name == "acme")),
            "fresh": s.scalar(select(Tenant.client_secret_encrypted).where(Tenant.name == "fresh")),
            "schedule": s.scalar(select(JobConfig.args_sealed).where(JobConfig.name == "with-token")),
            "lost": s.scalar(select(JobConfig.args_sealed).where(JobConfig.name == "lost")),
            "rule": s.scalar(select(AlertRule.channels_sealed)),
            "run": s.scalar(select(WorkerJobRun.args_sealed)),
        }


def test_rotate_reseals_everything_an_older_key_sealed(db: sessionmaker[Session], settings: Settings,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    ids = _seed(db, settings)
    before = _tokens(db)
    code, out = _run(settings, f"{NEW},{OLD}", monkeypatch, capsys)
    assert code == 1, out  # the schedule sealed with an unknown key is named, so the old key's fate is not decided
    assert f"schedule arguments: 2 sealed, 0 already with the newest key, 1 sealed again, " \
           f"1 that no configured key opens (id {ids['lost']})" in out
    assert "tenant client secrets: 2 sealed, 1 already with the newest key, 1 sealed again" in out
    assert "save them again" in out
    after = _tokens(db)
    assert after["fresh"] == before["fresh"]
    assert after["lost"] == before["lost"]
    only_new = _box(settings, NEW)
    assert only_new.decrypt(str(after["acme"])) == "acme-secret"
    assert only_new.decrypt(str(after["schedule"])) == '{"token": "t-1"}'
    assert only_new.decrypt(str(after["rule"])) == '[{"type": "webhook", "url": "https://h.example/x"}]'
    assert only_new.decrypt(str(after["run"])) == '{"token": "t-3"}'
    with db() as s:
        assert s.scalar(select(Tenant.updated_at).where(Tenant.id == ids["acme"])) == LONG_AGO
        assert s.scalar(select(JobConfig.updated_at).where(JobConfig.id == ids["schedule"])) == LONG_AGO
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "secrets.rotate")).one()
        assert entry.actor == "cli"
        assert entry.details["tenant client secrets"] == {"resealed": 1, "unreadable": 0}
        assert "acme-secret" not in str(entry.details)
        s.execute(delete(JobConfig).where(JobConfig.id == ids["lost"]))
        s.commit()
    code, out = _run(settings, f"{NEW},{OLD}", monkeypatch, capsys)  # a second pass finds nothing left
    assert code == 0, out
    assert "older key(s) can be removed" in out
    assert "ledger job arguments: 1 sealed, 1 already with the newest key, 0 sealed again" in out
    assert _tokens(db)["acme"] == after["acme"]
    with db() as s:  # nothing changed, nothing audited
        assert len(s.scalars(select(AuditLog).where(AuditLog.action == "secrets.rotate")).all()) == 1


def test_dry_run_counts_and_writes_nothing(db: sessionmaker[Session], settings: Settings,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    _seed(db, settings)
    before = _tokens(db)
    code, out = _run(settings, f"{NEW},{OLD},{STRANGER}", monkeypatch, capsys, "--dry-run")
    assert code == 0, out
    assert "dry run: 5 value(s) would be sealed again" in out
    assert "schedule arguments: 2 sealed, 0 already with the newest key, 2 to seal again" in out
    assert _tokens(db) == before
    with db() as s:
        assert s.scalars(select(AuditLog).where(AuditLog.action == "secrets.rotate")).all() == []


def test_a_value_saved_meanwhile_is_not_overwritten(db: sessionmaker[Session], settings: Settings) -> None:
    ids = _seed(db, settings)
    box = _box(settings, f"{NEW},{OLD}")
    saved = box.encrypt("saved-by-the-api")
    real_reseal = box.reseal

    def reseal_while_someone_saves(token: str) -> str:
        with db() as s, s.begin():  # the API saves a new secret between our read and our write
            s.execute(text("UPDATE tenant SET client_secret_encrypted = :v WHERE id = :id"),
                      {"v": saved, "id": ids["acme"]})
        return real_reseal(token)

    box.reseal = reseal_while_someone_saves  # type: ignore[method-assign]
    tenants = next(c for c in SEALED_COLUMNS if c.table == "tenant")
    report = reseal_column(db, box, tenants, batch=1)  # one row per transaction, as with concurrent writers
    assert (report.sealed, report.newest, report.resealed, report.saved_meanwhile) == (2, 1, 0, 1)
    assert _tokens(db)["acme"] == saved


def test_every_sealed_model_column_is_covered() -> None:
    """A new encrypted column must join SEALED_COLUMNS, or a rotation would leave its values behind."""
    from core.db.models.base import Base

    encrypted = {(table.name, column.name) for table in Base.metadata.sorted_tables for column in table.columns
                 if column.name.endswith(("_sealed", "_encrypted"))}
    assert encrypted == {(c.table, c.column) for c in SEALED_COLUMNS}


def test_an_unreachable_database_is_one_line_without_the_password(settings: Settings,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """libpq's refusal carries a hint on a second line; the command still answers in one line."""
    down = dataclasses.replace(settings, database_url="postgresql+psycopg://im:hunter2@127.0.0.1:1/none",
                               secret_key=NEW)
    for name, value in settings_to_env(down).items():
        monkeypatch.setenv(name, value)
    code = main(["secrets", "rotate", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("integramon secrets: database not reachable")
    assert "hunter2" not in err
