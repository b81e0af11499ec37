"""Helpers for worker-runtime tests: enqueue through the core, read the ledger and Redis synchronously."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis as redis_sync
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.ledger import WorkerJobAttempt, WorkerJobRun
from core.queues.catalog import function
from core.queues.enqueue import EnqueueRequest
from core.resources import open_resources
from core.settings import Settings


def enqueue(
    settings: Settings, name: str, kwargs: dict[str, Any] | None = None, count: int = 1, **options: Any
) -> list[str]:
    """Enqueue ``count`` jobs of a catalogued function the way every producer does."""

    async def run() -> list[str]:
        async with open_resources(settings) as res:
            ids: list[str] = []
            for start in range(0, count, 1000):
                batch = [
                    EnqueueRequest(function(name), dict(kwargs or {}), **options)
                    for _ in range(min(1000, count - start))
                ]
                ids += await res.enqueuer.enqueue_many(batch)
            return ids

    return asyncio.run(run())


def runs(db: sessionmaker[Session], **where: Any) -> list[WorkerJobRun]:
    with db() as session:
        query = select(WorkerJobRun).order_by(WorkerJobRun.id)
        for key, value in where.items():
            query = query.where(getattr(WorkerJobRun, key) == value)
        return list(session.execute(query).scalars())


def attempts(db: sessionmaker[Session], job_id: str) -> list[WorkerJobAttempt]:
    with db() as session:
        query = select(WorkerJobAttempt).where(WorkerJobAttempt.arq_job_id == job_id).order_by(WorkerJobAttempt.id)
        return list(session.execute(query).scalars())


@pytest.fixture
def rsync(redis_url: str) -> redis_sync.Redis:
    return redis_sync.Redis.from_url(redis_url)
