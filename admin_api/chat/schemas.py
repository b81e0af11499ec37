"""Bodies and responses of ``/api/v1/chat``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

__all__ = ["AnswerRun", "ChatAsk", "ChatAsked", "ChatConversationView", "ChatList", "ChatMessageView",
           "ChatSummary"]

Question = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]


class ChatAsk(msgspec.Struct, forbid_unknown_fields=True):
    """A question; without ``conversation_id`` a new conversation starts (about ``tenant_id`` if given)."""

    question: Question
    conversation_id: Id | None = None
    tenant_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None


class ChatAsked(msgspec.Struct, kw_only=True):
    """The stored question and the job that will answer it (follow it with ``GET /api/v1/chat/{id}``)."""

    conversation_id: int
    message_id: int
    run_id: int | None
    job_id: str


class AnswerRun(msgspec.Struct, kw_only=True):
    """The ledger run answering the newest question: its status and, if it failed, why."""

    run_id: int
    status: str
    error_type: str | None
    error_message: str | None


class ChatMessageView(msgspec.Struct, kw_only=True):
    id: int
    role: str  # user or assistant
    content: str
    source: str | None
    created_at: datetime


class ChatConversationView(msgspec.Struct, kw_only=True):
    """``pending``: the newest question has no answer yet and its run may still give one."""

    id: int
    title: str
    tenant_id: int | None
    created_at: datetime
    updated_at: datetime
    pending: bool
    run: AnswerRun | None
    messages: list[ChatMessageView]


class ChatSummary(msgspec.Struct, kw_only=True):
    id: int
    title: str
    tenant_id: int | None
    updated_at: datetime
    messages: int


class ChatList(msgspec.Struct, kw_only=True):
    items: list[ChatSummary]
