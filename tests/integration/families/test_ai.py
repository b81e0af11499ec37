"""process_chat_task: answers stored in a conversation, via a fake OpenAI-compatible endpoint or built in."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.chat import ChatConversation, ChatMessage
from core.errors import PermanentJobError
from core.resources import Resources
from functions.ai.jobs import process_chat_task
from functions.ai.llm import LlmError
from functions.runner.context import JobContext
from tests.integration.families.conftest import add_logs
from tests.stand_ins import http_receiver


def _conversation(db: sessionmaker[Session], tenant_id: int | None) -> int:
    with db.begin() as s:
        conv = ChatConversation(tenant_id=tenant_id)
        s.add(conv)
        s.flush()
        return conv.id


def _messages(db: sessionmaker[Session], conv: int) -> list[ChatMessage]:
    with db() as s:
        return list(s.scalars(select(ChatMessage).where(ChatMessage.conversation_id == conv).order_by(ChatMessage.id)))


@pytest.fixture
def failing_logs(db: sessionmaker[Session], tenant_id: int) -> None:
    add_logs(
        db,
        tenant_id,
        [
            {
                "status": "FAILED",
                "iflow_id": "OrderSync",
                "error_text": "Auth failed: password=hunter2 rejected",
                "extra": {"payload": "SECRET-PAYLOAD-BODY"},
            },
            {"status": "FAILED", "iflow_id": "OrderSync", "error_text": "HTTP 503 from S/4"},
            {"status": "COMPLETED", "iflow_id": "OrderSync"},
            {"status": "ESCALATED", "iflow_id": "Invoices", "error_text": "Mapping error in step 3"},
        ],
    )


async def test_builtin_answer_without_llm(
    db: sessionmaker[Session], tenant_id: int, failing_logs: None, job_ctx: Callable[..., JobContext]
) -> None:
    conv = _conversation(db, tenant_id)
    result = await process_chat_task(
        job_ctx("process_chat_task"), conversation_id=conv, question="What is failing right now?"
    )
    assert result["source"] == "builtin"
    user, answer = _messages(db, conv)
    assert (user.role, answer.role) == ("user", "assistant")
    assert "4 messages, 3 failed or escalated" in answer.content
    assert "OrderSync: 2 of 3 failed (66.7%)" in answer.content
    assert "hunter2" not in answer.content
    assert "[redacted]" in answer.content

    focused = await process_chat_task(
        job_ctx("process_chat_task"), conversation_id=conv, question="why does invoices fail?"
    )
    assert focused["source"] == "builtin"
    assert "Mapping error in step 3" in _messages(db, conv)[-1].content


async def test_llm_asked_with_database_context_and_history(
    db: sessionmaker[Session],
    tenant_id: int,
    failing_logs: None,
    resources: Resources,
    job_ctx: Callable[..., JobContext],
) -> None:
    def reply(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, {"choices": [{"message": {"role": "assistant", "content": f"answer #{len(fake.requests)}"}}]}

    conv = _conversation(db, tenant_id)
    with http_receiver(responder=reply) as fake:
        settings = dataclasses.replace(
            resources.settings, llm_base_url=fake.url + "/v1", llm_api_key="sk-test", llm_model="tiny"
        )
        res = dataclasses.replace(resources, settings=settings)
        await process_chat_task(job_ctx("process_chat_task", res=res), conversation_id=conv, question="first?")
        result = await process_chat_task(
            job_ctx("process_chat_task", res=res), conversation_id=conv, question="and then?"
        )
    assert result["source"] == "llm"
    path, body, headers = fake.requests[-1]
    assert path == "/v1/chat/completions"
    assert headers["Authorization"] == "Bearer sk-test"
    assert body["model"] == "tiny"
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    facts = json.loads(body["messages"][0]["content"].split("Facts (JSON):\n", 1)[1])
    assert facts["top_failing_iflows"][0]["iflow_id"] == "OrderSync"
    assert any("HTTP 503 from S/4" in e["error"] for e in facts["recent_errors"])
    everything = json.dumps(body)
    assert "SECRET-PAYLOAD-BODY" not in everything
    assert "hunter2" not in everything
    assert "client_secret" not in everything
    assert [m.content for m in _messages(db, conv)] == ["first?", "answer #1", "and then?", "answer #2"]


async def test_llm_failure_retried_then_falls_back_on_last_attempt(
    db: sessionmaker[Session],
    tenant_id: int,
    failing_logs: None,
    resources: Resources,
    job_ctx: Callable[..., JobContext],
) -> None:
    conv = _conversation(db, tenant_id)
    with http_receiver(fail_first=100) as fake:
        res = dataclasses.replace(resources, settings=dataclasses.replace(resources.settings, llm_base_url=fake.url))
        with pytest.raises(LlmError, match="HTTP 503"):
            await process_chat_task(job_ctx("process_chat_task", res=res), conversation_id=conv, question="status?")
        last = job_ctx("process_chat_task", attempt=3, res=res)
        result = await process_chat_task(last, conversation_id=conv, question="status?")
    assert result["source"] == "builtin"
    messages = _messages(db, conv)
    assert [m.role for m in messages] == ["user", "assistant"]  # the retried question is stored once
    assert "did not answer" in messages[-1].content
    with pytest.raises(PermanentJobError, match="conversation 999"):
        await process_chat_task(job_ctx("process_chat_task"), conversation_id=999, question="x")
