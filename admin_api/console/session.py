"""Console sign-in: the token is checked once and kept in an HttpOnly, SameSite=Strict cookie.

HttpOnly keeps the token away from page scripts (an XSS cannot read it), SameSite=Strict keeps other
sites from sending it, and the API additionally wants the ``X-IntegraMon-Console`` header on changes.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Template

from admin_api.auth.middleware import SESSION_COOKIE, authenticate
from admin_api.context import ApiContext, Principal

__all__ = ["SESSION_SECONDS", "console_principal", "login_page", "session_cookie"]

SESSION_SECONDS = 12 * 3600


async def console_principal(request: Request[Any, Any, Any]) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    ctx: ApiContext = request.app.state.ctx
    return await authenticate(ctx, token)


def login_page(next_path: str = "/jobs", error: str | None = None, status_code: int = 401) -> Template:
    """The sign-in form; pages answer with it (401) when there is no valid session."""
    return Template("login.html", context={"next": next_path, "error": error, "user": None},
                    status_code=status_code)


def session_cookie(request: Request[Any, Any, Any], token: str, max_age: int = SESSION_SECONDS) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value=token, max_age=max_age, path="/", httponly=True, samesite="strict",
                  secure=request.url.scheme == "https")


def clear_session(response: Response[Any]) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
