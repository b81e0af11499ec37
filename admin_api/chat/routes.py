"""``/api/v1/chat``: ask a question (answered by ``process_chat_task``), read a conversation, list them."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_202_ACCEPTED

from admin_api.auth.middleware import require_admin
from admin_api.chat.schemas import ChatAsk, ChatAsked, ChatConversationView, ChatList
from admin_api.chat.services import ask, conversation_view, list_conversations
from admin_api.context import Ctx, Principal

__all__ = ["ChatController"]

ConversationId = Annotated[int, Parameter(ge=1, le=2**63 - 1)]


class ChatController(Controller):
    path = "/api/v1/chat"
    tags = ["chat"]

    @get("/", summary="Conversations, newest first (at most 50)")
    async def list_items(self, ctx: Ctx, tenant_id: Annotated[int | None, Parameter(ge=1, le=2**31 - 1)] = None
                         ) -> ChatList:
        return await ctx.read(lambda s: list_conversations(s, tenant_id))

    @post("/", guards=[require_admin], status_code=HTTP_202_ACCEPTED,
          summary="Ask a question; the answer is added to the conversation when its job finishes")
    async def ask_question(self, ctx: Ctx, request: Request[Principal, Any, Any], data: JSONBody[ChatAsk]) -> ChatAsked:
        return await ask(ctx, request.user, data)

    @get("/{conversation_id:int}", summary="A conversation's messages and whether an answer is still coming")
    async def show(self, ctx: Ctx, conversation_id: ConversationId) -> ChatConversationView:
        return await ctx.read(lambda s: conversation_view(s, conversation_id))
