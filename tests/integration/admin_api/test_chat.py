"""``/api/v1/chat``: a question is stored and answered by ``process_chat_task`` run by the real worker
runtime; viewers read but cannot ask; bad input is a 400 naming the field."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.auth import AuditLog
from core.db.models.chat import ChatMessage
from core.db.models.ledger import WorkerJobRun
from core.settings import Settings
from tests.integration.admin_api.conftest import run_ai_worker


async def test_question_is_answered_by_the_worker(
        client: AsyncTestClient[Any], admin: dict[str, str], viewer: dict[str, str], settings: Settings,
        db: sessionmaker[Session]) -> None:
    asked = await client.post("/api/v1/chat", json={"question": "  What is failing right now?  "}, headers=admin)
    assert asked.status_code == 202, asked.text
    body = asked.json()
    conversation_id, run_id = body["conversation_id"], body["run_id"]
    assert run_id is not None

    waiting = (await client.get(f"/api/v1/chat/{conversation_id}", headers=viewer)).json()
    assert waiting["pending"] is True
    assert waiting["run"]["status"] == "queued"
    assert [(m["role"], m["content"]) for m in waiting["messages"]] == [("user", "What is failing right now?")]
    again = await client.post("/api/v1/chat", json={"question": "more?", "conversation_id": conversation_id},
                              headers=admin)
    assert again.status_code == 409  # one open question per conversation

    await run_ai_worker(settings)

    answered = (await client.get(f"/api/v1/chat/{conversation_id}", headers=viewer)).json()
    assert answered["pending"] is False
    assert answered["title"] == "What is failing right now?"
    roles = [m["role"] for m in answered["messages"]]
    assert roles == ["user", "assistant"]  # the job recognised the stored question: no duplicate
    answer = answered["messages"][1]
    assert answer["source"] == "builtin"
    assert "In the last 24 hours" in answer["content"]

    follow_up = await client.post("/api/v1/chat", json={"question": "and now?", "conversation_id": conversation_id},
                                  headers=admin)
    assert follow_up.status_code == 202
    listing = (await client.get("/api/v1/chat", headers=viewer)).json()
    assert [(c["id"], c["messages"]) for c in listing["items"]] == [(conversation_id, 3)]
    with db() as session:
        run = session.get(WorkerJobRun, run_id)
        assert run is not None
        assert run.status == "succeeded"
        assert run.function == "process_chat_task"
        actions = session.scalars(select(AuditLog.action).where(AuditLog.target == f"chat:{conversation_id}")).all()
    assert actions == ["chat.ask", "chat.ask"]


async def test_failed_answer_job_is_reported(client: AsyncTestClient[Any], admin: dict[str, str],
                                             db: sessionmaker[Session]) -> None:
    asked = (await client.post("/api/v1/chat", json={"question": "hello"}, headers=admin)).json()
    with db() as session, session.begin():
        run = session.get(WorkerJobRun, asked["run_id"])
        assert run is not None
        run.status, run.error_type, run.error_message = "dead", "LlmError", "model offline"
    view = (await client.get(f"/api/v1/chat/{asked['conversation_id']}", headers=admin)).json()
    assert view["pending"] is False
    assert view["run"] == {"run_id": asked["run_id"], "status": "dead", "error_type": "LlmError",
                           "error_message": "model offline"}


async def test_roles_and_bad_input(client: AsyncTestClient[Any], admin: dict[str, str], viewer: dict[str, str],
                                   db: sessionmaker[Session]) -> None:
    assert (await client.post("/api/v1/chat", json={"question": "hi"}, headers=viewer)).status_code == 403
    assert (await client.post("/api/v1/chat", json={"question": "hi"})).status_code == 401
    cases = [({"question": ""}, "question"), ({"question": "   "}, "question"), ({}, "question"),
             ({"question": "x" * 4001}, "question"), ({"question": "hi", "tenant_id": 4242}, "tenant_id"),
             ({"question": "hi", "conversation_id": 777}, "conversation_id"),
             ({"question": "hi", "surprise": 1}, "surprise")]
    for body, field in cases:
        response = await client.post("/api/v1/chat", json=body, headers=admin)
        assert response.status_code == 400, (body, response.text)
        assert field in response.text, (body, response.text)
    assert (await client.get("/api/v1/chat/999", headers=viewer)).status_code == 404
    assert (await client.get("/api/v1/chat/0", headers=viewer)).status_code == 400
    with db() as session:
        assert session.scalars(select(ChatMessage)).all() == []  # nothing stored by refused questions
