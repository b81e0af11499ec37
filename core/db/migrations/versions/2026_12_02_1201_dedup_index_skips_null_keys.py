"""The active-dedup unique index holds only runs that have a dedup key.

A unique index never finds two NULLs equal, so runs without a dedup key (most of them: every
job of a function that sets none) cannot conflict in it; indexing them only cost every enqueue
one more index insertion on the pickup-latency path and grew the index with every queued run.
Same rule, same name, smaller index.

On PostgreSQL the new index is built next to the old one with CREATE INDEX CONCURRENTLY, then the
old one is dropped (concurrently too) and the new one takes its name. Migrations run while the
previous release still serves (docs/aws.md, "Upgrade"); dropping and re-creating the index inside
the migration's transaction would hold an exclusive lock on the ledger for the whole build, so
every enqueue and ledger write would queue behind a full read of the ledger. Built this way,
writes go on throughout, and the rule holds throughout (one of the two indexes always enforces
it). Every step can be re-run: a build a crash left invalid is dropped and started again, a build
that finished is kept. SQLite (a single local process) rebuilds it in the transaction.

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

_NAME = "uq_worker_job_run_active_dedup"
_BUILDING = f"{_NAME}_next"  # the replacement while it is built
_ACTIVE = "status IN ('queued', 'running', 'retrying')"  # core.ledger.states.ACTIVE_STATUSES_SQL at 1201
_NEW = f"dedup_key IS NOT NULL AND {_ACTIVE}"
_OLD = _ACTIVE


def _rebuild(where: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(_NAME, table_name="worker_job_run")
        op.create_index(_NAME, "worker_job_run", ["dedup_key"], unique=True, sqlite_where=sa.text(where))
        return
    with op.get_context().autocommit_block():  # CONCURRENTLY cannot run inside a transaction
        valid = op.get_bind().execute(sa.text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:n)"),
                                      {"n": _BUILDING}).scalar()
        if valid is False:  # a build interrupted by a crash or a cancel: start it again
            op.execute(f"DROP INDEX CONCURRENTLY {_BUILDING}")
        if valid is not True:
            op.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {_BUILDING} ON worker_job_run (dedup_key) WHERE {where}")
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_NAME}")
        op.execute(f"ALTER INDEX {_BUILDING} RENAME TO {_NAME}")


def upgrade() -> None:
    _rebuild(_NEW)


def downgrade() -> None:
    _rebuild(_OLD)
