"""Migration 0801: the default schedules exist once, survive an operator's change across re-upgrades,
and tenants that existed before it get the default alert rule."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import insert, select, update

from core.db.migrate import alembic_config, upgrade
from core.db.models.alerting import AlertRule
from core.db.models.scheduling import JobConfig
from core.db.models.tenants import Tenant
from core.db.session import create_db_engine, make_session_factory
from core.defaults import DEFAULT_RULE, DEFAULT_SCHEDULES


def test_defaults_are_created_once_and_keep_operator_changes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    command.upgrade(alembic_config(url), "0501")
    engine = create_db_engine(url)
    sessions = make_session_factory(engine)
    try:
        with sessions() as session, session.begin():
            session.execute(insert(Tenant).values(name="old", api_url="https://x.example/api", client_id="c",
                                                  client_secret_encrypted="x"))
        upgrade(url)
        with sessions() as session:
            rows = {c.name: c for c in session.scalars(select(JobConfig))}
            rules = list(session.scalars(select(AlertRule)))
        assert {n: (c.function, c.interval_seconds, c.per_tenant, c.enabled) for n, c in rows.items()} == {
            d.name: (d.function, d.interval_seconds, d.per_tenant, True) for d in DEFAULT_SCHEDULES}
        first = {d.name: d.first_after_s for d in DEFAULT_SCHEDULES}
        base = rows["default.periodic_jobs"].next_run_at
        assert base is not None
        assert {n: round((c.next_run_at - base).total_seconds()) for n, c in rows.items()  # type: ignore[operator]
                } == first
        assert len(rules) == 1
        assert (rules[0].name, rules[0].condition, rules[0].statuses, rules[0].window_minutes, rules[0].threshold,
                rules[0].channels) == (DEFAULT_RULE["name"], "failed_messages", ["FAILED", "ESCALATED"], 15, 1, [])

        with sessions() as session, session.begin():  # the operator pauses one and re-times another
            session.execute(update(JobConfig).where(JobConfig.name == "default.stats").values(enabled=False))
            session.execute(update(JobConfig).where(JobConfig.name == "default.alerts").values(interval_seconds=300))
            session.execute(update(AlertRule).values(threshold=10))
        command.downgrade(alembic_config(url), "0501")
        upgrade(url)
        upgrade(url)
        with sessions() as session:
            again = {c.name: c for c in session.scalars(select(JobConfig))}
            rules = list(session.scalars(select(AlertRule)))
        assert sorted(again) == sorted(rows)
        assert again["default.stats"].enabled is False
        assert again["default.alerts"].interval_seconds == 300
        assert [r.threshold for r in rules] == [10]
    finally:
        engine.dispose()
