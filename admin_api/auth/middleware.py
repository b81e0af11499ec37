"""Authentication: ``Authorization: Bearer <token>`` (API clients) or the console's session cookie.

Every path needs a valid token except health, the console login page and static assets. A request
authenticated by the cookie must also carry ``X-IntegraMon-Console`` on changes: browsers never add
that header cross-site without a CORS preflight we do not allow, which stops CSRF.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from admin_api.auth.services import principal_for_token
from admin_api.context import ApiContext, Principal
from core.secrets import hash_token

__all__ = [
    "CONSOLE_HEADER",
    "PUBLIC_PATHS",
    "SESSION_COOKIE",
    "BearerAuthMiddleware",
    "authenticate",
    "require_admin",
]

SESSION_COOKIE = "integramon_session"
CONSOLE_HEADER = "x-integramon-console"
PUBLIC_PATHS = r"^/(health/|static/|login|logout|favicon\.ico)"
# Console pages authenticate themselves (they answer with the sign-in page, not JSON).
CONSOLE_PAGES = r"^/($|jobs|dead-letters|queues|redis|workers|tuning|bottlenecks)"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BEARER = re.compile(r"^Bearer\s+(\S+)$", re.IGNORECASE)


async def authenticate(ctx: ApiContext, token: str) -> Principal | None:
    """Principal of a plain token, through the per-app cache."""
    key = hash_token(token)
    found, principal = ctx.tokens.get(key)
    if not found:
        principal = await ctx.read(lambda s: principal_for_token(s, token))
        ctx.tokens.put(key, principal)
    return principal


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    """401 for a missing or unknown token; the principal becomes ``request.user``."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        via_cookie = False
        if header:
            match = _BEARER.match(header)
            if not match:
                raise NotAuthorizedException("Authorization header must be 'Bearer <token>'")
            token = match.group(1)
        else:
            token = connection.cookies.get(SESSION_COOKIE, "")
            via_cookie = True
        if not token:
            raise NotAuthorizedException("missing bearer token")
        ctx: ApiContext = connection.app.state.ctx
        principal = await authenticate(ctx, token)
        if principal is None:
            raise NotAuthorizedException("unknown or revoked token")
        if via_cookie and connection.scope.get("method", "GET") not in SAFE_METHODS \
                and CONSOLE_HEADER not in connection.headers:
            raise PermissionDeniedException(f"cookie sessions must send the {CONSOLE_HEADER} header on changes")
        return AuthenticationResult(user=principal, auth=token)


def require_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of every changing route: viewers get 403."""
    user = connection.scope.get("user")
    if not isinstance(user, Principal) or not user.is_admin:
        raise PermissionDeniedException("this action needs a token with the admin role")
