"""``core.key_rotation`` (plain SQL over every sealed column: keyset reads, compare-and-set writes) on
both databases: the same rows give the same report and every value opens with the newest key alone."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.scheduling import JobConfig
from core.db.models.tenants import Tenant
from core.db.session import create_db_engine, make_session_factory
from core.key_rotation import SEALED_COLUMNS, reseal_column
from core.secrets import SecretBox
from core.settings import Settings

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def _scenario(url: str, folder: Path) -> tuple[list[tuple[int, int, int, int]], list[str]]:
    old = SecretBox(Settings(data_dir=folder, secret_key=OLD))
    rotated = SecretBox(Settings(data_dir=folder, secret_key=f"{NEW},{OLD}"))
    engine = create_db_engine(url)
    try:
        sessions: sessionmaker[Session] = make_session_factory(engine)
        with sessions() as s, s.begin():
            s.add_all([Tenant(name=f"t{i}", api_url="https://x.example", client_id="c",
                              client_secret_encrypted=(old if i % 2 else rotated).encrypt(f"secret-{i}"))
                       for i in range(7)])
            s.add(JobConfig(name="sealed", function="noop", args={"token": "***"},
                            args_sealed=old.encrypt('{"token": "t"}')))
        reports = [reseal_column(sessions, rotated, column, batch=3) for column in SEALED_COLUMNS]
        newest = SecretBox(Settings(data_dir=folder, secret_key=NEW))
        with sessions() as s:
            plain = [newest.decrypt(t) for t in s.scalars(select(Tenant.client_secret_encrypted).order_by(Tenant.id))]
            plain.append(newest.decrypt(str(s.scalar(select(JobConfig.args_sealed).where(JobConfig.name == "sealed")))))
    finally:
        engine.dispose()
    return [(r.sealed, r.newest, r.resealed, r.unreadable) for r in reports], plain


def test_reseal_gives_the_same_result_on_both_databases(database_urls: dict[str, str], tmp_path: Path) -> None:
    results = {name: _scenario(url, tmp_path) for name, url in database_urls.items()}
    assert results["postgresql"] == results["sqlite"]
    counts, plain = results["sqlite"]
    assert counts[0] == (7, 4, 3, 0)  # tenants: 3 under the old key (odd i), 4 already on the newest
    assert counts[1] == (1, 0, 1, 0)
    assert plain == [f"secret-{i}" for i in range(7)] + ['{"token": "t"}']
