"""Console sign-in: the token is checked once and exchanged for a server-side session.

The cookie holds a random session id (stored hashed, see ``admin_api.auth.services``), HttpOnly (page
scripts cannot read it), SameSite=Strict (other sites cannot send it) and Secure whenever the request
is HTTPS (also behind a TLS-terminating load balancer listed in INTEGRAMON_FORWARDED_ALLOW_IPS). The
session ends at sign-out, after INTEGRAMON_SESSION_IDLE_MINUTES without use, after
INTEGRAMON_SESSION_MAX_HOURS, or when its token is revoked or expires.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Template

from admin_api.auth.middleware import SESSION_COOKIE, authenticate_session, client_address, limiter
from admin_api.auth.services import end_session, start_session
from admin_api.context import ApiContext, Principal
from core.secrets import hash_token

__all__ = ["clear_session", "console_principal", "login_page", "session_cookie", "sign_in", "sign_out"]


async def console_principal(request: Request[Any, Any, Any]) -> Principal | None:
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if not session_id:
        return None
    ctx: ApiContext = request.app.state.ctx
    return await authenticate_session(ctx, session_id)


def login_page(next_path: str = "/jobs", error: str | None = None, status_code: int = 401) -> Template:
    """The sign-in form; pages answer with it (401) when there is no valid session."""
    return Template("login.html", context={"next": next_path, "error": error, "user": None},
                    status_code=status_code)


async def sign_in(request: Request[Any, Any, Any], token: str) -> Cookie | None:
    """Exchange a token for a session cookie; None (logged, counted against the address) if refused.
    Raises TooManyFailures (429) for an address over the failure limit."""
    ctx: ApiContext = request.app.state.ctx
    limits, address = limiter(request), client_address(request)
    limits.check(address)
    settings = ctx.settings
    started = await ctx.write(lambda s: start_session(s, token, settings.session_idle_minutes,
                                                      settings.session_max_hours)) if token else None
    if started is None:
        await limits.failed(ctx.resources.redis, address, request.url.path, "sign-in with an unknown, revoked or "
                                                                            "expired token")
        return None
    session_id, _ = started
    return session_cookie(request, session_id, settings.session_max_hours * 3600)


async def sign_out(request: Request[Any, Any, Any], response: Response[Any]) -> None:
    """End the session server-side (the id stops working everywhere at once) and drop the cookie."""
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if session_id:
        ctx: ApiContext = request.app.state.ctx
        await ctx.write(lambda s: end_session(s, session_id))
        ctx.tokens.put("session:" + hash_token(session_id), None)
    clear_session(response)


def session_cookie(request: Request[Any, Any, Any], session_id: str, max_age: int) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value=session_id, max_age=max_age, path="/", httponly=True,
                  samesite="strict", secure=request.url.scheme == "https")


def clear_session(response: Response[Any]) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
