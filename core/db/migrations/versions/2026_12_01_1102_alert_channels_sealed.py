"""alert rule channels sealed at rest (alert_rule.channels_sealed, alert_notification.channel_index)

Rules whose channels hold something the redaction rule hides (a webhook URL with a path, query or
credentials) are split as ``core.alerting.channels`` stores them: the redacted copy stays in
``channels``, the whole list goes Fernet-encrypted into ``channels_sealed``. Each notification row gets
the position of its channel in the rule (matched by channel type and target) and keeps only the
redacted target; delivery resolves the real one from the rule. Rules with nothing to hide (the default
rule of 0801) are left as they are and need no key.

Downgrade writes the real channels back into ``alert_rule.channels`` and the real targets back into the
notifications whose channel is still on the rule, and refuses (changing nothing) if a seal cannot be
opened. A notification whose channel was no longer on its rule at upgrade keeps its redacted target.

The key: the Settings that ``core.db.migrate.upgrade`` passes (``integramon migrate``, dev mode), else
the environment's, read only when a row needs it.

Revision ID: 1102
Revises: 0801
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from core.alerting.channels import channel_target, rule_channels, shown_target, stored_columns
from core.db.migrate import MigrationSecretBox
from core.db.models.base import JsonType
from core.sealing import needs_seal

revision: str = "1102"
down_revision: str | Sequence[str] | None = "0801"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

alert_rule = sa.table("alert_rule", sa.column("id", sa.Integer), sa.column("channels", JsonType),
                      sa.column("channels_sealed", sa.Text))
alert = sa.table("alert", sa.column("id", sa.BigInteger), sa.column("rule_id", sa.Integer))
alert_notification = sa.table("alert_notification", sa.column("id", sa.BigInteger),
                              sa.column("alert_id", sa.BigInteger), sa.column("channel", sa.String),
                              sa.column("target", sa.String), sa.column("channel_index", sa.Integer))


def _channels(raw: Any) -> list[dict[str, Any]]:
    return [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []


def _notifications(bind: Any) -> list[Any]:
    """Every notification with the rule it belongs to."""
    return list(bind.execute(
        sa.select(alert_notification.c.id, alert_notification.c.channel, alert_notification.c.target,
                  alert_notification.c.channel_index, alert.c.rule_id)
        .join(alert, alert.c.id == alert_notification.c.alert_id)).all())


def _position(channels: list[dict[str, Any]], kind: str, target: str) -> int | None:
    """Where the channel a notification (stored whole, cut to 512) was queued for sits in the rule."""
    for index, channel in enumerate(channels):
        real = channel_target(channel)
        if channel.get("type") == kind and real is not None and real[:512] == target:
            return index
    return None


def upgrade() -> None:
    with op.batch_alter_table("alert_rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channels_sealed", sa.Text(), nullable=True))
    with op.batch_alter_table("alert_notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_index", sa.Integer(), nullable=True))
    bind = op.get_bind()
    box = MigrationSecretBox(context.config.attributes)
    real = {rid: _channels(raw) for rid, raw in bind.execute(sa.select(alert_rule.c.id, alert_rule.c.channels))}
    for note in _notifications(bind):
        bind.execute(sa.update(alert_notification).where(alert_notification.c.id == note.id).values(
            channel_index=_position(real.get(note.rule_id, []), note.channel, note.target),
            target=shown_target(note.target)))
    for rule_id, channels in real.items():
        if needs_seal({"channels": channels}):
            bind.execute(sa.update(alert_rule).where(alert_rule.c.id == rule_id)
                         .values(**stored_columns(channels, box.get())))


def downgrade() -> None:
    bind = op.get_bind()
    box = MigrationSecretBox(context.config.attributes)
    rows = bind.execute(sa.select(alert_rule.c.id, alert_rule.c.channels, alert_rule.c.channels_sealed)).all()
    # all seals opened before anything is written: a wrong key refuses the downgrade as a whole
    real = {row.id: rule_channels(row, box.get()) if row.channels_sealed is not None else _channels(row.channels)
            for row in rows}
    for note in _notifications(bind):
        channels, index = real.get(note.rule_id, []), note.channel_index
        target = channel_target(channels[index]) if index is not None and 0 <= index < len(channels) else None
        if target is not None and shown_target(target) == note.target:
            bind.execute(sa.update(alert_notification).where(alert_notification.c.id == note.id)
                         .values(target=target[:512]))
    for row in rows:
        if row.channels_sealed is not None:
            bind.execute(sa.update(alert_rule).where(alert_rule.c.id == row.id)
                         .values(channels=real[row.id], channels_sealed=None))
    # plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35 too): a batch copy of alert_rule would drop the
    # table under SQLite's enforced foreign keys and so delete every alert (ON DELETE CASCADE)
    op.drop_column("alert_notification", "channel_index")
    op.drop_column("alert_rule", "channels_sealed")
