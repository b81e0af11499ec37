"""The active-dedup unique index holds only runs that have a dedup key.

A unique index never finds two NULLs equal, so runs without a dedup key (most of them: every
job of a function that sets none) cannot conflict in it; indexing them only cost every enqueue
one more index insertion on the pickup-latency path and grew the index with every queued run.
Same rule, same name, smaller index. Rebuilt in the migration's transaction (PostgreSQL's DDL is
transactional, so the rule holds throughout); the build reads the ledger once and keeps only
active runs with a key.

Revision ID: 1201
Revises: 0701
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1201"
down_revision: str | Sequence[str] | None = "0701"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = "status IN ('queued', 'running', 'retrying')"  # core.ledger.states.ACTIVE_STATUSES_SQL at 1201
_NEW = sa.text(f"dedup_key IS NOT NULL AND {_ACTIVE}")
_OLD = sa.text(_ACTIVE)


def _rebuild(where: sa.TextClause) -> None:
    op.drop_index("uq_worker_job_run_active_dedup", table_name="worker_job_run")
    op.create_index("uq_worker_job_run_active_dedup", "worker_job_run", ["dedup_key"], unique=True,
                    postgresql_where=where, sqlite_where=where)


def upgrade() -> None:
    _rebuild(_NEW)


def downgrade() -> None:
    _rebuild(_OLD)
