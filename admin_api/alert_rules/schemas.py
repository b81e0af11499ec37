"""Alert rule bodies and responses. Channels are a tagged union on ``type`` (webhook or e-mail)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

__all__ = ["AlertRuleCreate", "AlertRuleList", "AlertRuleUpdate", "AlertRuleView", "Channel", "ChannelView",
           "EmailChannel", "WebhookChannel"]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Url = Annotated[str, msgspec.Meta(min_length=8, max_length=512, pattern=r"^https?://[^\s/]+\S*$")]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")]
Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
TenantId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
Condition = Literal["failed_messages", "artifact_error", "no_messages"]
Scope = Literal["tenant", "package", "iflow"]
MessageStatus = Literal["FAILED", "ESCALATED", "RETRY", "COMPLETED", "PROCESSING", "DISCARDED", "ABANDONED",
                        "CANCELLED"]
Statuses = Annotated[list[MessageStatus], msgspec.Meta(min_length=1, max_length=8)]
Window = Annotated[int, msgspec.Meta(ge=1, le=10_080, description="minutes looked back (at most a week)")]
Threshold = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]


class WebhookChannel(msgspec.Struct, tag="webhook", tag_field="type", forbid_unknown_fields=True):
    """POST the alert as JSON to ``url``."""

    url: Url


class EmailChannel(msgspec.Struct, tag="email", tag_field="type", forbid_unknown_fields=True):
    """Send the alert to every address in ``to``."""

    to: Annotated[list[Email], msgspec.Meta(min_length=1, max_length=50)]


Channel = WebhookChannel | EmailChannel
Channels = Annotated[list[Channel], msgspec.Meta(max_length=20)]


class AlertRuleCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A rule watched for one tenant; ``package_id`` / ``iflow_id`` narrow it to one package or iflow."""

    name: Name
    tenant_id: TenantId
    condition: Condition
    scope: Scope = "tenant"
    package_id: Ident | None = None
    iflow_id: Ident | None = None
    statuses: Statuses = msgspec.field(default_factory=lambda: ["FAILED", "ESCALATED"])
    window_minutes: Window = 15
    threshold: Threshold = 1
    channels: Channels = msgspec.field(default_factory=list)
    fetch_details: bool = True
    enabled: bool = True


class AlertRuleUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change (the tenant of a rule never does); ``null`` clears package/iflow."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    condition: Condition | msgspec.UnsetType = msgspec.UNSET
    scope: Scope | msgspec.UnsetType = msgspec.UNSET
    package_id: Ident | msgspec.UnsetType | None = msgspec.UNSET
    iflow_id: Ident | msgspec.UnsetType | None = msgspec.UNSET
    statuses: Statuses | msgspec.UnsetType = msgspec.UNSET
    window_minutes: Window | msgspec.UnsetType = msgspec.UNSET
    threshold: Threshold | msgspec.UnsetType = msgspec.UNSET
    channels: Channels | msgspec.UnsetType = msgspec.UNSET
    fetch_details: bool | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET


class ChannelView(msgspec.Struct):
    """A channel as served: for viewers the URL keeps only scheme and host, addresses only their domain."""

    type: str
    url: str | None = None
    to: list[str] | None = None
    redacted: bool = False


class AlertRuleView(msgspec.Struct):
    id: int
    name: str
    tenant_id: int
    scope: str
    package_id: str | None
    iflow_id: str | None
    condition: str
    statuses: list[str]
    window_minutes: int
    threshold: int
    channels: list[ChannelView]
    fetch_details: bool
    enabled: bool
    open_alerts: int
    created_at: datetime
    updated_at: datetime


class AlertRuleList(msgspec.Struct):
    items: list[AlertRuleView]
