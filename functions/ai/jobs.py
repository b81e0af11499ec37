"""``process_chat_task``: store the question, answer it (LLM or built-in) and store the answer.

With ``llm_base_url`` set the endpoint is asked; if it keeps failing, the last attempt answers
from the built-in summary instead (and says so), so a question is never left without an answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.db.models.chat import ChatConversation, ChatMessage
from core.errors import PermanentJobError
from core.queues.catalog import PROCESS_CHAT_TASK
from functions.ai.builtin import builtin_answer
from functions.ai.context import build_context
from functions.ai.llm import LlmError, ask_llm, build_messages
from functions.registry import JobFunction, implemented_in, implements
from functions.runner.context import JobContext

__all__ = ["JOBS", "process_chat_task"]

HISTORY_TURNS = 10


def _prepare(sessions: sessionmaker[Session], conversation_id: int,
             question: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Record the question (once, also across retries); return the context and the earlier turns."""
    with sessions.begin() as session:
        conversation = session.get(ChatConversation, conversation_id)
        if conversation is None:
            raise PermanentJobError(f"conversation {conversation_id} does not exist")
        turns = list(session.scalars(select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)
                                     .order_by(ChatMessage.id.desc()).limit(HISTORY_TURNS + 1)))[::-1]
        if turns and turns[-1].role == "user" and turns[-1].content == question:
            turns = turns[:-1]
        else:
            session.add(ChatMessage(conversation_id=conversation_id, role="user", content=question))
        if not conversation.title:
            conversation.title = question[:255]
        context = build_context(session, conversation.tenant_id)
    return context, [(t.role, t.content) for t in turns[-HISTORY_TURNS:]]


def _store_answer(sessions: sessionmaker[Session], conversation_id: int, answer: str, source: str,
                  context: dict[str, Any]) -> int:
    with sessions.begin() as session:
        message = ChatMessage(conversation_id=conversation_id, role="assistant", content=answer, source=source,
                              context=context)
        session.add(message)
        conversation = session.get(ChatConversation, conversation_id)
        if conversation is not None:
            conversation.updated_at = utcnow()
        session.flush()
        return message.id


async def _answer(ctx: JobContext, context: dict[str, Any], history: list[tuple[str, str]],
                  question: str) -> tuple[str, str]:
    if not ctx.settings.llm_base_url:
        return builtin_answer(question, context), "builtin"
    try:
        return await ask_llm(ctx.settings, build_messages(context, history, question)), "llm"
    except LlmError as exc:
        if ctx.attempt < ctx.spec.retry.max_attempts:
            raise
        note = f"(The language model did not answer: {exc}. This answer is built from the monitoring data.)"
        return builtin_answer(question, context) + "\n\n" + note, "builtin"


@implements(PROCESS_CHAT_TASK)
async def process_chat_task(ctx: JobContext, conversation_id: int, question: str) -> dict[str, Any]:
    """Answer ``question`` in conversation ``conversation_id``."""
    question = (question or "").strip()
    if not question:
        raise PermanentJobError("question is empty")
    context, history = await asyncio.to_thread(_prepare, ctx.resources.sessions, int(conversation_id), question)
    answer, source = await _answer(ctx, context, history, question)
    message_id = await asyncio.to_thread(_store_answer, ctx.resources.sessions, int(conversation_id), answer,
                                         source, context)
    return {"conversation_id": int(conversation_id), "message_id": message_id, "source": source}


JOBS: dict[str, JobFunction] = implemented_in(__name__)  # the table, derived from @implements
