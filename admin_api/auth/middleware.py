"""Authentication: ``Authorization: Bearer <token>`` (API clients) or the console's session cookie.

Every route needs a valid token or console session except the handlers marked exempt in
``admin_api.auth.exemptions`` (exact paths from the route table). The cookie holds a server-side
session id, never the token (``admin_api.auth.services``). A request authenticated by the cookie
must also carry ``X-IntegraMon-Console`` on changes: browsers never add that header cross-site
without a CORS preflight we do not allow, which stops CSRF. Failed attempts are logged and limited
per client address (``admin_api.auth.limits``).
"""

from __future__ import annotations

import re
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from admin_api.auth.limits import FailureLimiter
from admin_api.auth.services import principal_for_session, principal_for_token
from admin_api.context import ApiContext, Principal
from core.secrets import hash_token

__all__ = [
    "CONSOLE_HEADER",
    "SESSION_COOKIE",
    "BearerAuthMiddleware",
    "authenticate",
    "authenticate_session",
    "client_address",
    "limiter",
    "require_admin",
]

SESSION_COOKIE = "integramon_session"
CONSOLE_HEADER = "x-integramon-console"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BEARER = re.compile(r"^Bearer\s+(\S+)$", re.IGNORECASE)


async def authenticate(ctx: ApiContext, token: str) -> Principal | None:
    """Principal of a plain token, through the per-app cache."""
    key = hash_token(token)
    return await ctx.tokens.lookup(key, lambda: ctx.read(lambda s: principal_for_token(s, token)))


async def authenticate_session(ctx: ApiContext, session_id: str) -> Principal | None:
    """Principal of a live console session (cached a few seconds like tokens; sign-out clears it)."""
    key = "session:" + hash_token(session_id)
    found, principal = ctx.tokens.get(key)
    if not found:
        idle = ctx.settings.session_idle_minutes
        principal = await ctx.write(lambda s: principal_for_session(s, session_id, idle))
        ctx.tokens.put(key, principal)
    return principal


def limiter(connection: ASGIConnection[Any, Any, Any, Any]) -> FailureLimiter:
    state = connection.app.state
    if "auth_limiter" not in state:
        ctx: ApiContext = state.ctx
        state.auth_limiter = FailureLimiter(ctx.settings.auth_failures_per_minute)
    found: FailureLimiter = state.auth_limiter
    return found


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's address (uvicorn takes it from X-Forwarded-For for INTEGRAMON_FORWARDED_ALLOW_IPS)."""
    return connection.client.host if connection.client else "unknown"


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    """401 for a missing or unknown credential, 429 for an address over the failure limit; the
    principal becomes ``request.user``."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        address = client_address(connection)
        limits = limiter(connection)
        limits.check(address)
        ctx: ApiContext = connection.app.state.ctx
        header = connection.headers.get("authorization")
        if header:
            match = _BEARER.match(header)
            if not match:
                await limits.failed(ctx.resources.redis, address, connection.url.path, "malformed Authorization")
                raise NotAuthorizedException("Authorization header must be 'Bearer <token>'")
            principal = await authenticate(ctx, match.group(1))
            if principal is None:
                reason = "unknown, revoked or expired token"
                await limits.failed(ctx.resources.redis, address, connection.url.path, reason)
                raise NotAuthorizedException(reason)
            return AuthenticationResult(user=principal, auth="bearer")
        session_id = connection.cookies.get(SESSION_COOKIE, "")
        if not session_id:
            raise NotAuthorizedException("missing bearer token")
        principal = await authenticate_session(ctx, session_id)
        if principal is None:
            await limits.failed(ctx.resources.redis, address, connection.url.path, "unknown or ended console session")
            raise NotAuthorizedException("console session ended; sign in again")
        if connection.scope.get("method", "GET") not in SAFE_METHODS and CONSOLE_HEADER not in connection.headers:
            raise PermissionDeniedException(f"cookie sessions must send the {CONSOLE_HEADER} header on changes")
        return AuthenticationResult(user=principal, auth="session")


def require_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of every changing route: viewers get 403."""
    user = connection.scope.get("user")
    if not isinstance(user, Principal) or not user.is_admin:
        raise PermissionDeniedException("this action needs a token with the admin role")
