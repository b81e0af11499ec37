"""Settings responses and bodies. Every key comes from ``core.config_keys.REGISTRY`` (one definition)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

__all__ = ["ConfigKeyView", "MetricSettingList", "MetricSettingUpdate", "MetricSettingView", "SettingValue",
           "SettingsView", "TenantOverride", "TenantSettingView", "TenantSettingsView"]


class SettingValue(msgspec.Struct, forbid_unknown_fields=True):
    """The new value; its JSON type must match the key's ``type`` and lie within its bounds."""

    value: Any


class TenantOverride(msgspec.Struct):
    tenant_id: int
    value: Any
    valid: bool  # a stored value the key no longer accepts is ignored by readers (default used)


class ConfigKeyView(msgspec.Struct):
    """One registered key: its definition, the stored global value (if any) and what readers get."""

    key: str
    type: str
    default: Any
    minimum: float | None
    maximum: float | None
    scope: str  # "global": one value; "tenant": a tenant row overrides the global one
    unit: str
    meaning: str
    value: Any  # effective global value (the stored one, or the default)
    stored: bool  # a global row exists
    updated_at: datetime | None
    overrides: list[TenantOverride]


class MetricSettingView(msgspec.Struct):
    metric: str
    meaning: str
    enabled: bool
    interval_seconds: int
    default_interval_seconds: int
    last_dispatched_at: datetime | None
    stored: bool  # a row exists (otherwise the default shown is what the dispatcher will create/use)


class MetricSettingList(msgspec.Struct):
    items: list[MetricSettingView]


class SettingsView(msgspec.Struct):
    keys: list[ConfigKeyView]
    metric_settings: list[MetricSettingView]


class TenantSettingView(msgspec.Struct):
    """A tenant-scoped key as one tenant sees it."""

    tenant_id: int
    key: str
    type: str
    default: Any
    minimum: float | None
    maximum: float | None
    unit: str
    meaning: str
    override: Any  # the tenant's stored value, null when none
    overridden: bool
    value: Any  # effective for this tenant: override, else global, else default


class TenantSettingsView(msgspec.Struct):
    tenant_id: int
    items: list[TenantSettingView]


class MetricSettingUpdate(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool | None = None
    interval_seconds: Annotated[int, msgspec.Meta(ge=10, le=31 * 86_400)] | None = None
