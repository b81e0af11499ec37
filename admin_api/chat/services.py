"""Ask and read chat conversations.

The question is stored before its job is enqueued (``process_chat_task`` recognises it and does not
store it twice), and the user message keeps the job's run id in its ``context``, so a reader can
tell "still thinking" from "the answer job failed" without searching the ledger.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_api.audit.services import audit
from admin_api.chat.schemas import (
    AnswerRun,
    ChatAsk,
    ChatAsked,
    ChatConversationView,
    ChatList,
    ChatMessageView,
    ChatSummary,
)
from admin_api.context import ApiContext, Principal
from admin_api.errors import BadInput, Conflict, NotFound
from core.db.models.chat import ChatConversation, ChatMessage
from core.db.models.ledger import WorkerJobRun
from core.db.models.tenants import Tenant
from core.ledger.states import TERMINAL
from core.queues.catalog import PROCESS_CHAT_TASK

__all__ = ["ask", "conversation_view", "list_conversations"]

LIST_LIMIT = 50


@dataclass(frozen=True, slots=True)
class _Stored:
    conversation_id: int
    message_id: int
    tenant_id: int | None
    started: bool  # the conversation was created for this question


def _store_question(session: Session, body: ChatAsk, question: str, job_id: str) -> _Stored:
    """The question row, holding the id its job will get (one unanswered question per conversation)."""
    if body.conversation_id is not None:
        conversation = session.get(ChatConversation, body.conversation_id)
        if conversation is None:
            raise BadInput("conversation_id", f"no conversation with id {body.conversation_id}")
        if body.tenant_id is not None and body.tenant_id != conversation.tenant_id:
            raise BadInput("tenant_id", "a conversation keeps the tenant it was started with")
        if conversation_view(session, conversation.id).pending:
            raise Conflict(f"conversation {conversation.id} is still waiting for an answer; ask again after it")
        started = False
    else:
        if body.tenant_id is not None and session.get(Tenant, body.tenant_id) is None:
            raise BadInput("tenant_id", f"no tenant with id {body.tenant_id}")
        conversation = ChatConversation(tenant_id=body.tenant_id, title=question[:255])
        session.add(conversation)
        session.flush()
        started = True
    message = ChatMessage(conversation_id=conversation.id, role="user", content=question,
                          context={"job_id": job_id})
    session.add(message)
    session.flush()
    return _Stored(conversation.id, message.id, conversation.tenant_id, started)


def _forget_question(session: Session, stored: _Stored) -> None:
    """Undo :func:`_store_question` when the job could not be enqueued (the caller gets the error)."""
    message = session.get(ChatMessage, stored.message_id)
    if message is not None:
        session.delete(message)
    conversation = session.get(ChatConversation, stored.conversation_id) if stored.started else None
    if conversation is not None:
        session.delete(conversation)


async def ask(ctx: ApiContext, who: Principal, body: ChatAsk) -> ChatAsked:
    """Store the question, enqueue ``process_chat_task`` for it and audit the request."""
    question = body.question.strip()
    if not question:
        raise BadInput("question", "must not be blank")
    job_id = os.urandom(16).hex()
    stored = await ctx.write(lambda s: _store_question(s, body, question, job_id))
    try:
        enqueued = await ctx.resources.enqueuer.enqueue(
            PROCESS_CHAT_TASK, {"conversation_id": stored.conversation_id, "question": question}, job_id=job_id,
            tenant_id=stored.tenant_id)
    except Exception:
        await ctx.write(lambda s: _forget_question(s, stored))
        raise
    if enqueued is None:
        await ctx.write(lambda s: _forget_question(s, stored))
        raise Conflict("the question could not be enqueued (job id already in use); ask again")

    def record(session: Session) -> ChatAsked:
        run_id = session.execute(select(WorkerJobRun.id).where(WorkerJobRun.arq_job_id == job_id)).scalar()
        audit(session, who, "chat.ask", f"chat:{stored.conversation_id}",
              {"message_id": stored.message_id, "run_id": run_id, "question_chars": len(question)})
        return ChatAsked(conversation_id=stored.conversation_id, message_id=stored.message_id, run_id=run_id,
                         job_id=job_id)

    return await ctx.write(record)


def _answer_run(session: Session, question: ChatMessage) -> AnswerRun | None:
    job_id = (question.context or {}).get("job_id")
    if not isinstance(job_id, str):
        return None
    run = session.execute(select(WorkerJobRun).where(WorkerJobRun.arq_job_id == job_id)).scalar_one_or_none()
    if run is None:
        return None
    return AnswerRun(run_id=run.id, status=run.status, error_type=run.error_type, error_message=run.error_message)


def _message(m: ChatMessage) -> ChatMessageView:
    return ChatMessageView(id=m.id, role=m.role, content=m.content, source=m.source, created_at=m.created_at)


def conversation_view(session: Session, conversation_id: int) -> ChatConversationView:
    """The conversation with every turn, oldest first, and the state of the newest question's run."""
    conversation = session.get(ChatConversation, conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation with id {conversation_id}")
    messages = list(session.scalars(select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)
                                    .order_by(ChatMessage.id)))
    waiting = bool(messages) and messages[-1].role == "user"
    run = _answer_run(session, messages[-1]) if waiting else None
    pending = waiting and (run is None or run.status not in TERMINAL)
    return ChatConversationView(
        id=conversation.id, title=conversation.title, tenant_id=conversation.tenant_id,
        created_at=conversation.created_at, updated_at=conversation.updated_at, pending=pending, run=run,
        messages=[_message(m) for m in messages])


def list_conversations(session: Session, tenant_id: int | None = None) -> ChatList:
    """The newest conversations first (at most LIST_LIMIT), with their number of messages."""
    count = (select(func.count()).where(ChatMessage.conversation_id == ChatConversation.id)
             .correlate(ChatConversation).scalar_subquery())
    stmt = select(ChatConversation, count).order_by(ChatConversation.updated_at.desc(), ChatConversation.id.desc())
    if tenant_id is not None:
        stmt = stmt.where(ChatConversation.tenant_id == tenant_id)
    rows = session.execute(stmt.limit(LIST_LIMIT)).all()
    return ChatList(items=[ChatSummary(id=c.id, title=c.title, tenant_id=c.tenant_id, updated_at=c.updated_at,
                                       messages=int(n)) for c, n in rows])
