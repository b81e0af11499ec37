"""``GET /api/v1/auth/me``: who the token belongs to (the console uses it to show the role)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from admin_api.context import Principal

__all__ = ["whoami"]


@get("/api/v1/auth/me", tags=["auth"], summary="The calling token's name and role")
async def whoami(request: Request[Principal, Any, Any]) -> dict[str, str]:
    return {"name": request.user.name, "role": request.user.role}
