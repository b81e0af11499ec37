"""Database and Redis pressure time series (store_pressure_sample).

Revision ID: 1052
Revises: 1051
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "1052"
down_revision: str | Sequence[str] | None = "1051"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "store_pressure_sample",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("sampled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("store", sa.String(length=16), nullable=False),
        sa.Column("values", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_store_pressure_sample_store_sampled", "store_pressure_sample", ["store", "sampled_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_store_pressure_sample_store_sampled", table_name="store_pressure_sample")
    op.drop_table("store_pressure_sample")
