"""schedule arguments sealed at rest (job_config.args_sealed)

Existing rows whose arguments hold something the redaction rule hides (a secret-named key, a URL with
a path or credentials) are split as ``core.schedules.arguments`` stores them: the redacted copy stays
in ``args``, the whole dict goes Fernet-encrypted into ``args_sealed``. Rows with nothing to hide (the
default schedules of 0801, most others) are left as they are and need no key. Downgrade writes the
real arguments back into ``args`` first, and refuses (changing nothing) if a seal cannot be opened.

The key: the Settings that ``core.db.migrate.upgrade`` passes (``integramon migrate``, dev mode), else
the environment's, read only when a row needs it.

Revision ID: 1101
Revises: 0801
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from core.db.migrate import SETTINGS_ATTRIBUTE
from core.db.models.base import JsonType
from core.schedules.arguments import needs_seal, schedule_arguments, stored_columns
from core.secrets import SecretBox
from core.settings import load_settings

revision: str = "1101"
down_revision: str | Sequence[str] | None = "0801"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

job_config = sa.table("job_config", sa.column("id", sa.Integer), sa.column("args", JsonType),
                      sa.column("args_sealed", sa.Text))


class _Box:
    """The SecretBox, built on first use: a database with nothing to (un)seal needs no key."""

    def __init__(self) -> None:
        self._box: SecretBox | None = None

    def get(self) -> SecretBox:
        if self._box is None:
            settings = context.config.attributes.get(SETTINGS_ATTRIBUTE) or load_settings()
            self._box = SecretBox(settings)
        return self._box


def _update(bind: Any, config_id: int, values: dict[str, Any]) -> None:
    bind.execute(sa.update(job_config).where(job_config.c.id == config_id).values(**values))


def upgrade() -> None:
    with op.batch_alter_table("job_config", schema=None) as batch_op:
        batch_op.add_column(sa.Column("args_sealed", sa.Text(), nullable=True))
    bind = op.get_bind()
    box = _Box()
    for config_id, args in bind.execute(sa.select(job_config.c.id, job_config.c.args)).all():
        if isinstance(args, dict) and needs_seal(args):
            _update(bind, config_id, stored_columns(args, box.get()))


def downgrade() -> None:
    bind = op.get_bind()
    box = _Box()
    sealed = bind.execute(sa.select(job_config.c.id, job_config.c.args, job_config.c.args_sealed)
                          .where(job_config.c.args_sealed.is_not(None))).all()
    real = {row.id: schedule_arguments(row, box.get()) for row in sealed}  # all opened before any is written
    for config_id, args in real.items():
        _update(bind, config_id, {"args": args, "args_sealed": None})
    with op.batch_alter_table("job_config", schema=None) as batch_op:
        batch_op.drop_column("args_sealed")
