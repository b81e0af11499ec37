"""Fixtures of the admin API tests: the app on real PostgreSQL and Redis, an admin and a viewer token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.orm import Session, sessionmaker

from admin_api import create_app
from admin_api.auth.services import create_token
from core.resources import open_resources
from core.settings import Settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, pool_size=4)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
def admin_token(db: sessionmaker[Session]) -> str:
    with db() as session, session.begin():
        return create_token(session, "ops-admin", "admin")


@pytest.fixture
def viewer_token(db: sessionmaker[Session]) -> str:
    with db() as session, session.begin():
        return create_token(session, "ops-viewer", "viewer")


@pytest.fixture
def admin(admin_token: str) -> dict[str, str]:
    return bearer(admin_token)


@pytest.fixture
def viewer(viewer_token: str) -> dict[str, str]:
    return bearer(viewer_token)


async def run_periodic_worker(settings: Settings) -> None:
    """Drain ``periodic_run`` with the real worker runtime (burst mode, in this process).

    Only the self-test functions are given to the worker: the tests enqueue nothing else there.
    """
    from functions.runner.tuning import ConcurrencySource
    from functions.runner.worker import GroupWorker
    from functions.selftest import JOBS

    async with open_resources(settings) as resources:
        source = ConcurrencySource(resources.sessions, "periodic", fixed=4)
        worker = GroupWorker(
            resources,
            group="periodic",
            queues=["periodic_run"],
            implementations=dict(JOBS),
            concurrency=source,
            burst=True,
        )
        await worker.run()


async def run_ai_worker(settings: Settings) -> None:
    """Drain the ``ai`` queue (``process_chat_task``) with the real worker runtime, burst mode."""
    from functions.ai import JOBS
    from functions.runner.tuning import ConcurrencySource
    from functions.runner.worker import GroupWorker

    async with open_resources(settings) as resources:
        source = ConcurrencySource(resources.sessions, "ai", fixed=1)
        worker = GroupWorker(resources, group="ai", queues=["ai"], implementations=dict(JOBS), concurrency=source,
                             burst=True)
        await worker.run()


def seed_alert(db: sessionmaker[Session], tenant_id: int) -> int:
    """An open alert of the tenant's default rule (given a webhook) with three samples: one stored with
    an error text, one stored without, one not stored yet."""
    from sqlalchemy import select

    from core.db.models.alerting import Alert, AlertRule
    from core.db.models.base import utcnow
    from core.db.models.messages import MessageLog

    with db() as session, session.begin():
        rule = session.scalars(select(AlertRule).where(AlertRule.tenant_id == tenant_id)).one()
        rule.channels = [{"type": "webhook", "url": "https://hooks.example/secret-path?token=abc"}]
        session.add_all([
            MessageLog(tenant_id=tenant_id, message_guid="guid-with-text", status="FAILED", iflow_id="OrderSync",
                       error_text="HTTP 503 from S/4\nat step 3", log_end=utcnow()),
            MessageLog(tenant_id=tenant_id, message_guid="guid-no-text", status="ESCALATED", iflow_id="OrderSync",
                       log_end=utcnow()),
        ])
        alert = Alert(rule_id=rule.id, tenant_id=tenant_id, scope_key=f"tenant:{tenant_id}", current_count=2,
                      peak_count=2, summary="2 failed messages in 15 minutes",
                      sample_guids=["guid-with-text", "guid-no-text", "guid-not-stored"])
        session.add(alert)
        session.flush()
        return alert.id
