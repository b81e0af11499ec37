"""Tenant bodies and responses. ``client_secret`` goes in, never out: ``TenantView`` has no field that
could carry it (only ``has_secret``), so no handler can echo it by accident."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

__all__ = ["TenantCreate", "TenantList", "TenantUpdate", "TenantView"]

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


class TenantView(msgspec.Struct, kw_only=True):
    """A tenant as the API shows it: endpoint URLs masked (user name, password and secret-looking query
    values as ``***``), the secret only as
    ``has_secret``; ``rate_limit_per_s`` null means SAP's own limits."""

    id: int
    name: str
    api_url: str
    token_url: str | None
    auth_type: str
    client_id: str
    has_secret: bool
    rate_limit_per_s: float | None
    active: bool
    created_at: datetime
    updated_at: datetime


class TenantList(msgspec.Struct):
    items: list[TenantView]
