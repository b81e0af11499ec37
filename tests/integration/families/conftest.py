"""Fixtures for the task-family tests: open resources, a JobContext factory, tenants and message logs."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.db.models.messages import MessageLog
from core.db.models.tenants import Tenant
from core.queues.catalog import function
from core.resources import Resources, open_resources
from core.settings import Settings
from functions.runner.context import JobContext

_guids = itertools.count(1)


@pytest.fixture
async def resources(settings: Settings) -> AsyncIterator[Resources]:
    async with open_resources(settings) as res:
        yield res


@pytest.fixture
def job_ctx(resources: Resources) -> Callable[..., JobContext]:
    """Build the context a worker would pass to ``name`` (attempt 1 unless told)."""

    def make(name: str, attempt: int = 1, res: Resources | None = None) -> JobContext:
        return JobContext(
            resources=res or resources,
            job_id=f"test-{name}-{next(_guids)}",
            spec=function(name),
            attempt=attempt,
            worker_id="test-worker",
        )

    return make


def add_tenant(
    db: sessionmaker[Session], name: str = "acme", api_url: str = "http://127.0.0.1:1/api/v1", **extra: Any
) -> int:
    with db.begin() as session:
        tenant = Tenant(name=name, api_url=api_url, client_id="client", client_secret_encrypted="x", **extra)
        session.add(tenant)
        session.flush()
        return tenant.id


@pytest.fixture
def tenant_id(db: sessionmaker[Session]) -> int:
    return add_tenant(db)


def add_logs(db: sessionmaker[Session], tenant_id: int, specs: list[dict[str, Any]]) -> list[str]:
    """Insert message logs; each spec may set status, iflow_id, package_id, log_end, duration_ms, error_text."""
    rows = []
    now = utcnow()
    for spec in specs:
        end: datetime = spec.get("log_end", now)
        guid = spec.get("message_guid", f"G{next(_guids):08d}")
        rows.append(
            {
                "tenant_id": tenant_id,
                "message_guid": guid,
                "status": spec.get("status", "COMPLETED"),
                "iflow_id": spec.get("iflow_id", "FlowA"),
                "iflow_name": spec.get("iflow_id", "FlowA"),
                "package_id": spec.get("package_id", "PkgA"),
                "error_text": spec.get("error_text"),
                "log_start": end - timedelta(milliseconds=spec.get("duration_ms", 100)),
                "log_end": end,
                "extra": spec.get("extra", {}),
                "stored_at": spec.get("stored_at", utcnow()),
            }
        )
    with db.begin() as session:
        session.execute(insert(MessageLog), rows)
    return [r["message_guid"] for r in rows]
