"""Ledger keeps the real job arguments for replay (args_sealed).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("worker_job_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("args_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("worker_job_run", schema=None) as batch_op:
        batch_op.drop_column("args_sealed")
