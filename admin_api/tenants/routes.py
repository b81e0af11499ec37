"""``/api/v1/tenants``: list, show, create, update, disable, test connection."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from admin_api.auth.middleware import require_admin
from admin_api.context import Ctx, Principal
from admin_api.tenants.connection_check import ConnectionCheck, check_connection
from admin_api.tenants.schemas import TenantCreate, TenantList, TenantUpdate, TenantView
from admin_api.tenants.services import create_tenant, list_tenants, load_tenant, public_view, update_tenant

__all__ = ["TenantsController"]

TenantId = Annotated[int, Parameter(ge=1, le=2**31 - 1)]


class TenantsController(Controller):
    path = "/api/v1/tenants"
    tags = ["tenants"]

    @get("/", summary="All tenants (secrets never included)")
    async def list_items(self, ctx: Ctx) -> TenantList:
        return TenantList(items=await ctx.read(list_tenants))

    @get("/{tenant_id:int}", summary="One tenant")
    async def show(self, ctx: Ctx, tenant_id: TenantId) -> TenantView:
        return await ctx.read(lambda s: public_view(load_tenant(s, tenant_id)))

    @post("/", guards=[require_admin], status_code=HTTP_201_CREATED, summary="Create a tenant")
    async def create(self, ctx: Ctx, request: Request[Principal, Any, Any], data: JSONBody[TenantCreate]
                     ) -> TenantView:
        return await ctx.write(lambda s: create_tenant(s, request.user, ctx.secrets, data,
                                                       ctx.resources.settings.cpi_plain_http_hosts))

    @patch("/{tenant_id:int}", guards=[require_admin], summary="Change some fields (a new secret replaces the old)")
    async def update(self, ctx: Ctx, request: Request[Principal, Any, Any], tenant_id: TenantId,
                     data: JSONBody[TenantUpdate]) -> TenantView:
        return await ctx.write(lambda s: update_tenant(s, request.user, ctx.secrets, tenant_id, data,
                                                       ctx.resources.settings.cpi_plain_http_hosts))

    @post("/{tenant_id:int}/disable", guards=[require_admin], status_code=HTTP_200_OK,
          summary="Stop polling a tenant (kept with its data)")
    async def disable(self, ctx: Ctx, request: Request[Principal, Any, Any], tenant_id: TenantId
                      ) -> TenantView:
        return await ctx.write(lambda s: update_tenant(s, request.user, ctx.secrets, tenant_id,
                                                       TenantUpdate(active=False)))

    @post("/{tenant_id:int}/test-connection", guards=[require_admin], status_code=HTTP_200_OK,
          summary="Fetch a token and one message-log page from the tenant; the result or the CPI error")
    async def test_connection(self, ctx: Ctx, request: Request[Principal, Any, Any], tenant_id: TenantId
                              ) -> ConnectionCheck:
        return await check_connection(ctx, request.user, tenant_id)
