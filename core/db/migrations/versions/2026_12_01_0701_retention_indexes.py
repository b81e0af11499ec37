"""Indexes that let retention prune old rows in small batches without scanning big tables.

Every foreign key that points at ``worker_job_run.id`` with ``ON DELETE SET NULL`` needs an index
on the referencing column, or each deleted run costs a sequential scan of the referencing table
(for the self-reference: of the ledger itself). The age columns of attempts and schedule firings
get an index so a batch finds its oldest rows directly.

Revision ID: 0701
Revises: 0002, 0401
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0701"
down_revision: str | Sequence[str] | None = ("0002", "0401")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_NULL_REPLAY = sa.text("replay_of_id IS NOT NULL")
_NOT_NULL_RUN = sa.text("worker_job_run_id IS NOT NULL")
_NOT_NULL_NEW_RUN = sa.text("new_run_id IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_worker_job_run_replay_of_id", "worker_job_run", ["replay_of_id"],
                    postgresql_where=_NOT_NULL_REPLAY, sqlite_where=_NOT_NULL_REPLAY)
    op.create_index("ix_worker_job_attempt_started_at", "worker_job_attempt", ["started_at"])
    op.create_index("ix_job_run_created_at", "job_run", ["created_at"])
    op.create_index("ix_job_run_worker_job_run_id", "job_run", ["worker_job_run_id"],
                    postgresql_where=_NOT_NULL_RUN, sqlite_where=_NOT_NULL_RUN)
    op.create_index("ix_dead_letter_resolution_new_run_id", "dead_letter_resolution", ["new_run_id"],
                    postgresql_where=_NOT_NULL_NEW_RUN, sqlite_where=_NOT_NULL_NEW_RUN)


def downgrade() -> None:
    op.drop_index("ix_dead_letter_resolution_new_run_id", table_name="dead_letter_resolution")
    op.drop_index("ix_job_run_worker_job_run_id", table_name="job_run")
    op.drop_index("ix_job_run_created_at", table_name="job_run")
    op.drop_index("ix_worker_job_attempt_started_at", table_name="worker_job_attempt")
    op.drop_index("ix_worker_job_run_replay_of_id", table_name="worker_job_run")
