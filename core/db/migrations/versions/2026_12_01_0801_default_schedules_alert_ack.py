"""default schedules, per-tenant fan-out, alert acknowledgement, default alert rule per tenant

The defaults are inserted only when no schedule of that name exists, so an operator's change or pause
survives upgrades and re-runs. Values are written out here (not imported) so that this revision keeps
doing what it did when later code changes its defaults.

Revision ID: 0801
Revises: 0501
Create Date: 2026-12-01 18:40:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from core.db.models.base import JsonType, UtcDateTime

revision: str = "0801"
down_revision: str | Sequence[str] | None = "0501"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name, function, interval (s), per tenant, first firing (s after the migration: alerts and stats wait
# for the first polls to store messages, the rest run at once)
SCHEDULES = (
    ("default.alerts", "check_and_create_alerts", 60, True, 60),
    ("default.stats", "stats_update_t", 300, True, 90),
    ("default.periodic_jobs", "periodic_jobs", 3600, False, 0),
    ("default.cleanup_config", "cleanup_config_task", 86_400, False, 0),
    ("default.cleanup_pending_configs", "cleanup_pending_configs_task", 86_400, False, 0),
    ("default.agent_reports", "dispatch_due_agent_reports_task", 60, False, 0),
)

job_config = sa.table(
    "job_config", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("function", sa.String),
    sa.column("args", JsonType), sa.column("interval_seconds", sa.Integer), sa.column("enabled", sa.Boolean),
    sa.column("per_tenant", sa.Boolean), sa.column("next_run_at", UtcDateTime),
    sa.column("created_at", UtcDateTime), sa.column("updated_at", UtcDateTime))
alert_rule = sa.table(
    "alert_rule", sa.column("tenant_id", sa.Integer), sa.column("name", sa.String), sa.column("scope", sa.String),
    sa.column("condition", sa.String), sa.column("statuses", JsonType), sa.column("window_minutes", sa.Integer),
    sa.column("threshold", sa.Integer), sa.column("channels", JsonType), sa.column("fetch_details", sa.Boolean),
    sa.column("enabled", sa.Boolean), sa.column("created_at", UtcDateTime), sa.column("updated_at", UtcDateTime))
tenant = sa.table("tenant", sa.column("id", sa.Integer))


def upgrade() -> None:
    with op.batch_alter_table("job_config", schema=None) as batch_op:
        batch_op.add_column(sa.Column("per_tenant", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", sa.String(length=128), nullable=True))
    bind = op.get_bind()
    now = datetime.now(UTC)
    existing = set(bind.execute(sa.select(job_config.c.name)).scalars())
    rows = [{"name": name, "function": fn, "args": {}, "interval_seconds": every, "enabled": True,
             "per_tenant": fan_out, "next_run_at": now + timedelta(seconds=first), "created_at": now,
             "updated_at": now}
            for name, fn, every, fan_out, first in SCHEDULES if name not in existing]
    if rows:
        bind.execute(sa.insert(job_config), rows)
    with_rules = sa.select(alert_rule.c.tenant_id)
    bare = list(bind.execute(sa.select(tenant.c.id).where(tenant.c.id.not_in(with_rules))).scalars())
    if bare:
        bind.execute(sa.insert(alert_rule), [
            {"tenant_id": tid, "name": "Failed or escalated messages", "scope": "tenant",
             "condition": "failed_messages", "statuses": ["FAILED", "ESCALATED"], "window_minutes": 15,
             "threshold": 1, "channels": [], "fetch_details": True, "enabled": True, "created_at": now,
             "updated_at": now} for tid in bare])


def downgrade() -> None:
    """Drops the columns; the default rows stay (they are ordinary rows an operator may have changed)."""
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("acknowledged_by")
        batch_op.drop_column("acknowledged_at")
    with op.batch_alter_table("job_config", schema=None) as batch_op:
        batch_op.drop_column("per_tenant")
