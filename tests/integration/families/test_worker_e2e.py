"""End to end: family jobs enqueued through the catalog and run by real `integramon worker --burst` processes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.alerting import Alert, AlertRule
from core.db.models.chat import ChatConversation, ChatMessage
from core.db.models.ledger import WorkerJobRun
from core.db.models.stats import StatsBucket
from core.queues.catalog import function
from core.resources import Resources
from core.settings import Settings
from tests.integration.families.conftest import add_logs
from tests.processes import integramon


async def _burst(settings: Settings, group: str, log: Path) -> None:
    proc = integramon(settings, "worker", "--group", group, "--burst", log=log)
    code = await asyncio.to_thread(proc.wait, 120)
    assert code == 0, await asyncio.to_thread(log.read_text)


async def test_periodic_alerts_and_ai_groups_run_family_jobs(
    db: sessionmaker[Session], tenant_id: int, settings: Settings, resources: Resources, tmp_path: Path
) -> None:
    add_logs(db, tenant_id, [{"status": "FAILED", "error_text": "Connection refused"}, {"status": "COMPLETED"}])
    with db.begin() as s:
        s.add(AlertRule(name="any failure", tenant_id=tenant_id, condition="failed_messages"))
        conv = ChatConversation(tenant_id=tenant_id)
        s.add(conv)
        s.flush()
        conv_id = conv.id
    enqueue = resources.enqueuer.enqueue
    await enqueue(function("stats_update_t"), {"tenant_id": tenant_id})
    await enqueue(function("periodic_jobs"), {})
    await enqueue(function("check_and_create_alerts"), {})
    await enqueue(function("process_chat_task"), {"conversation_id": conv_id, "question": "what fails?"})

    for group in ("periodic", "alerts", "ai"):
        await _burst(settings, group, tmp_path / f"{group}.log")

    with db() as s:
        runs = dict(s.execute(select(WorkerJobRun.function, WorkerJobRun.status)).all())
        assert runs == {
            "stats_update_t": "succeeded",
            "periodic_jobs": "succeeded",
            "check_and_create_alerts": "succeeded",
            "process_chat_task": "succeeded",
            "get_message_details_alert": "queued",
        }
        assert cast(int, s.scalar(select(func.count()).select_from(StatsBucket))) > 0
        assert s.scalar(select(func.count()).select_from(Alert)) == 1
        answer = s.scalar(select(ChatMessage).where(ChatMessage.role == "assistant"))
        assert answer is not None
        assert "Connection refused" in answer.content
