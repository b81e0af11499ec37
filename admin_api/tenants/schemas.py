"""Tenant bodies. ``client_secret`` goes in, never out (responses say ``has_secret``)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = ["TenantCreate", "TenantUpdate"]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Url = Annotated[str, msgspec.Meta(min_length=8, max_length=512, pattern=r"^https?://\S+$")]
ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
Rate = Annotated[float, msgspec.Meta(gt=0, le=10_000)]
AuthType = Literal["oauth", "basic"]


class TenantCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    api_url: Url
    client_id: ClientId
    client_secret: Secret
    token_url: Url | None = None
    auth_type: AuthType = "oauth"
    rate_limit_per_s: Rate | None = None
    active: bool = True


class TenantUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change; ``client_secret`` replaces the stored secret."""

    name: Name | None = None
    api_url: Url | None = None
    client_id: ClientId | None = None
    client_secret: Secret | None = None
    token_url: Url | None = None
    auth_type: AuthType | None = None
    rate_limit_per_s: Rate | None = None
    active: bool | None = None
