"""``/api/v1/alerts``: list with filters, detail with samples, a sample's error text, acknowledge."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK

from admin_api.alerts.schemas import AlertDetail, AlertPage, AlertStatus, AlertView, SampleError
from admin_api.alerts.services import acknowledge, alert_detail, list_alerts, sample_error
from admin_api.auth.middleware import require_admin
from admin_api.context import Ctx, Principal
from admin_api.params import Cursor, Limit, TenantQ

__all__ = ["AlertsController"]

AlertId = Annotated[int, Parameter(ge=1, le=2**63 - 1, description="alert id")]
RuleQ = Annotated[int | None, Parameter(ge=1, le=2**31 - 1, description="alert rule id")]
StatusQ = Annotated[AlertStatus | None, Parameter(description="open (not acknowledged), acknowledged or resolved")]
Guid = Annotated[str, Parameter(min_length=1, max_length=64, description="message GUID")]


class AlertsController(Controller):
    path = "/api/v1/alerts"
    tags = ["alerts"]

    @get("/", summary="Alerts, newest first (keyset pages)")
    async def list_items(self, ctx: Ctx, status: StatusQ = None, tenant_id: TenantQ = None, rule_id: RuleQ = None,
                         limit: Limit = 50, cursor: Cursor = None) -> AlertPage:
        items, nxt = await ctx.read(lambda s: list_alerts(s, status, tenant_id, rule_id, limit, cursor))
        return AlertPage(items=items, next_cursor=nxt)

    @get("/{alert_id:int}", summary="One alert with its sample messages")
    async def show(self, ctx: Ctx, alert_id: AlertId) -> AlertDetail:
        return await ctx.read(lambda s: alert_detail(s, alert_id))

    @get("/{alert_id:int}/samples/{guid:str}", summary="Stored error text of one sample message")
    async def sample(self, ctx: Ctx, alert_id: AlertId, guid: Guid) -> SampleError:
        return await ctx.read(lambda s: sample_error(s, alert_id, guid))

    @post("/{alert_id:int}/acknowledge", guards=[require_admin], status_code=HTTP_200_OK,
          summary="Acknowledge an open alert (it stays open until its condition clears)")
    async def ack(self, ctx: Ctx, request: Request[Principal, Any, Any], alert_id: AlertId) -> AlertView:
        return await ctx.write(lambda s: acknowledge(s, request.user, alert_id))
