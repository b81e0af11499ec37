"""schedules keep their real arguments encrypted (job_config.args_sealed); args holds the redacted copy

Existing rows are left as they are: their args stay readable (and usable) until the schedule is
saved again through the API, which stores the redacted copy and the seal.

Revision ID: 0902
Revises: 0901
Create Date: 2026-12-01 19:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0902"
down_revision: str | Sequence[str] | None = "0901"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job_config", schema=None) as batch_op:
        batch_op.add_column(sa.Column("args_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_config", schema=None) as batch_op:
        batch_op.drop_column("args_sealed")
