"""Token responses. No response carries a token's hash; the plain token appears once, in
``TokenCreated`` (the answer to its creation), and in no other struct. (The request body
``TokenCreate`` stays beside its route: its limit comes from the services, which build these.)"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

__all__ = ["Role", "TokenCreated", "TokenList", "TokenRevoked", "TokenView", "WhoAmI"]

Role = Literal["viewer", "admin"]


class WhoAmI(msgspec.Struct):
    """The calling token (or the token a console session was signed in with)."""

    name: str
    role: str


class TokenView(msgspec.Struct, kw_only=True):
    """``active``: neither revoked nor expired; ``expires_at`` null only for tokens made before expiry existed."""

    name: str
    role: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


class TokenList(msgspec.Struct):
    items: list[TokenView]


class TokenCreated(msgspec.Struct, kw_only=True):
    """``token`` is shown here only: the server keeps its SHA-256 and can never show it again."""

    name: str
    role: Role
    expires_in_days: int
    token: str


class TokenRevoked(msgspec.Struct):
    """``revoked_at``: when it was revoked (the earlier time if it already was)."""

    name: str
    revoked_at: datetime
