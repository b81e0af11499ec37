"""Extra ledger indexes for the admin API's job search (declared here, next to no model of their own,
so the ledger module stays its owner's; they attach to ``worker_job_run`` all the same).

The console's most common narrow search is one tenant's runs in one queue, newest first; without this
index PostgreSQL combines two single-column bitmaps and sorts, which grows with the ledger.
"""

from __future__ import annotations

from sqlalchemy import Index

from core.db.models.ledger import WorkerJobRun

__all__ = ["TENANT_QUEUE_INDEX"]

TENANT_QUEUE_INDEX = Index(
    "ix_worker_job_run_tenant_id_queue_enqueued_at_id",
    WorkerJobRun.tenant_id, WorkerJobRun.queue, WorkerJobRun.enqueued_at, WorkerJobRun.id,
)
