"""Fixtures for controller tests: opened resources and small builders for tenants and ledger rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.tenants import Tenant
from core.resources import Resources, open_resources
from core.settings import Settings


@pytest.fixture
async def resources(settings: Settings) -> AsyncIterator[Resources]:
    async with open_resources(settings) as res:
        yield res


def add_tenants(sessions: sessionmaker[Session], count: int, *, active: bool = True, start: int = 1) -> list[int]:
    rows = [
        {
            "id": start + i,
            "name": f"tenant-{start + i}",
            "api_url": "http://127.0.0.1:1/api/v1",
            "client_id": "c",
            "client_secret_encrypted": "x",
            "active": active,
        }
        for i in range(count)
    ]
    with sessions() as session, session.begin():
        session.execute(insert(Tenant), rows)
    return [r["id"] for r in rows]


def add_run(
    sessions: sessionmaker[Session],
    *,
    status: str,
    enqueued_at: datetime | None = None,
    worker_id: str | None = None,
    queue: str = "periodic_run",
    function: str = "sleep",
    attempt: int = 0,
    job_id: str | None = None,
    started_at: datetime | None = None,
) -> str:
    job_id = job_id or uuid.uuid4().hex
    row: dict[str, Any] = {
        "arq_job_id": job_id,
        "queue": queue,
        "function": function,
        "args_redacted": {},
        "status": status,
        "attempt": attempt,
        "max_attempts": 3,
        "enqueued_at": enqueued_at or utcnow(),
        "updated_at": utcnow(),
        "worker_id": worker_id,
        "started_at": started_at,
    }
    with sessions() as session, session.begin():
        session.execute(insert(WorkerJobRun), [row])
    return job_id
