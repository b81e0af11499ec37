"""``/api/v1/auth``: who am I, and token management for admins (create, list, revoke; all audited)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.orm import Session

from admin_api.auth.middleware import require_admin
from admin_api.auth.schemas import Role, TokenCreated, TokenList, TokenRevoked, WhoAmI
from admin_api.auth.services import MAX_EXPIRY_DAYS, TokenExists, TokenNotFound, create_token, list_tokens, revoke_token
from admin_api.context import Ctx, Principal
from admin_api.errors import Conflict, NotFound

__all__ = ["TokensController", "whoami"]

TokenName = Annotated[str, Parameter(min_length=1, max_length=128, description="token name")]


class TokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^\S(.*\S)?$")]
    role: Role
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=MAX_EXPIRY_DAYS)] | None = None


@get("/api/v1/auth/me", tags=["auth"], summary="The calling token's name and role")
async def whoami(request: Request[Principal, Any, Any]) -> WhoAmI:
    return WhoAmI(name=request.user.name, role=request.user.role)


class TokensController(Controller):
    path = "/api/v1/auth/tokens"
    tags = ["auth"]
    guards = [require_admin]

    @get("/", summary="Every token: name, role, expiry, state (never the token or its hash)")
    async def list_items(self, ctx: Ctx) -> TokenList:
        return TokenList(items=await ctx.read(list_tokens))

    @post("/", status_code=HTTP_201_CREATED, summary="Create a token; the response is the only time it is shown")
    async def create(self, ctx: Ctx, request: Request[Principal, Any, Any], data: JSONBody[TokenCreate]
                     ) -> TokenCreated:
        days = data.expires_in_days or ctx.settings.token_default_days

        def work(session: Session) -> TokenCreated:
            try:
                token = create_token(session, data.name, data.role, days, by=request.user)
            except TokenExists as exc:
                raise Conflict(str(exc)) from None
            return TokenCreated(name=data.name, role=data.role, expires_in_days=days, token=token)

        return await ctx.write(work)

    @post("/{name:str}/revoke", status_code=HTTP_200_OK,
          summary="Revoke a token and end the console sessions signed in with it")
    async def revoke(self, ctx: Ctx, request: Request[Principal, Any, Any], name: TokenName) -> TokenRevoked:
        def work(session: Session) -> TokenRevoked:
            try:
                return revoke_token(session, name, by=request.user)
            except TokenNotFound as exc:
                raise NotFound(str(exc)) from None

        result = await ctx.write(work)
        ctx.tokens.clear()  # this process forgets cached principals at once (others within their TTL)
        return result
