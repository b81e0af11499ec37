"""``/api/v1/settings`` (global keys), ``/api/v1/tenants/{id}/settings`` (per-tenant overrides) and
``/api/v1/metric-settings`` (platform metric cadence). Viewers read; admins change; every change audited."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, put
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from admin_api.auth.middleware import require_admin
from admin_api.context import Ctx, Principal
from admin_api.settings.schemas import (
    ConfigKeyView,
    MetricSettingList,
    MetricSettingUpdate,
    MetricSettingView,
    SettingsView,
    SettingValue,
    TenantSettingsView,
    TenantSettingView,
)
from admin_api.settings.services import (
    all_settings,
    clear_global,
    clear_tenant,
    list_metrics,
    set_global,
    set_metric,
    set_tenant,
    show_metric,
    tenant_settings,
)

__all__ = ["MetricSettingsController", "SettingsController", "TenantSettingsController"]

Key = Annotated[str, Parameter(min_length=1, max_length=128, description="registered config key")]
Metric = Annotated[str, Parameter(min_length=1, max_length=64, description="platform metric")]
TenantId = Annotated[int, Parameter(ge=1, le=2**31 - 1, description="tenant id")]


class SettingsController(Controller):
    path = "/api/v1/settings"
    tags = ["settings"]

    @get("/", summary="Every registered config key (definition, global value, overrides) and metric settings")
    async def list_items(self, ctx: Ctx) -> SettingsView:
        return await ctx.read(all_settings)

    @put("/{key:str}", guards=[require_admin], summary="Set a key's global value")
    async def set_value(self, ctx: Ctx, request: Request[Principal, Any, Any], key: Key,
                        data: JSONBody[SettingValue]) -> ConfigKeyView:
        return await ctx.write(lambda s: set_global(s, request.user, key, data.value))

    @delete("/{key:str}", guards=[require_admin], status_code=200, summary="Reset a key to its default")
    async def reset(self, ctx: Ctx, request: Request[Principal, Any, Any], key: Key) -> ConfigKeyView:
        return await ctx.write(lambda s: clear_global(s, request.user, key))


class TenantSettingsController(Controller):
    path = "/api/v1/tenants/{tenant_id:int}/settings"
    tags = ["settings"]

    @get("/", summary="Tenant-scoped keys as this tenant sees them")
    async def list_items(self, ctx: Ctx, tenant_id: TenantId) -> TenantSettingsView:
        return await ctx.read(lambda s: tenant_settings(s, tenant_id))

    @put("/{key:str}", guards=[require_admin], summary="Override a key for this tenant")
    async def set_value(self, ctx: Ctx, request: Request[Principal, Any, Any], tenant_id: TenantId, key: Key,
                        data: JSONBody[SettingValue]) -> TenantSettingView:
        return await ctx.write(lambda s: set_tenant(s, request.user, tenant_id, key, data.value))

    @delete("/{key:str}", guards=[require_admin], status_code=HTTP_204_NO_CONTENT,
            summary="Remove this tenant's override (the global value applies again)")
    async def clear(self, ctx: Ctx, request: Request[Principal, Any, Any], tenant_id: TenantId, key: Key) -> None:
        await ctx.write(lambda s: clear_tenant(s, request.user, tenant_id, key))


class MetricSettingsController(Controller):
    path = "/api/v1/metric-settings"
    tags = ["settings"]

    @get("/", summary="Every platform metric's cadence")
    async def list_items(self, ctx: Ctx) -> MetricSettingList:
        return MetricSettingList(items=await ctx.read(list_metrics))

    @get("/{metric:str}", summary="One platform metric's cadence")
    async def show(self, ctx: Ctx, metric: Metric) -> MetricSettingView:
        return await ctx.read(lambda s: show_metric(s, metric))

    @put("/{metric:str}", guards=[require_admin], summary="Enable, disable or re-time a platform metric")
    async def update(self, ctx: Ctx, request: Request[Principal, Any, Any], metric: Metric,
                     data: JSONBody[MetricSettingUpdate]) -> MetricSettingView:
        return await ctx.write(lambda s: set_metric(s, request.user, metric, data))
