"""``/api/v1/alert-rules``: list (viewers see redacted channels), show, create, change, delete."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from admin_api.alert_rules.schemas import AlertRuleCreate, AlertRuleList, AlertRuleUpdate, AlertRuleView
from admin_api.alert_rules.services import create_rule, delete_rule, list_rules, show_rule, update_rule
from admin_api.auth.middleware import require_admin
from admin_api.context import Ctx, Principal
from admin_api.params import TenantQ

__all__ = ["AlertRulesController"]

RuleId = Annotated[int, Parameter(ge=1, le=2**31 - 1, description="alert rule id")]


class AlertRulesController(Controller):
    path = "/api/v1/alert-rules"
    tags = ["alerts"]

    @get("/", summary="Alert rules (channel URLs and addresses redacted for viewers)")
    async def list_items(self, ctx: Ctx, request: Request[Principal, Any, Any], tenant_id: TenantQ = None
                         ) -> AlertRuleList:
        return AlertRuleList(items=await ctx.read(lambda s: list_rules(s, ctx.secrets, request.user, tenant_id)))

    @get("/{rule_id:int}", summary="One alert rule")
    async def show(self, ctx: Ctx, request: Request[Principal, Any, Any], rule_id: RuleId) -> AlertRuleView:
        return await ctx.read(lambda s: show_rule(s, ctx.secrets, request.user, rule_id))

    @post("/", guards=[require_admin], status_code=HTTP_201_CREATED, summary="Create an alert rule")
    async def create(self, ctx: Ctx, request: Request[Principal, Any, Any], data: JSONBody[AlertRuleCreate]
                     ) -> AlertRuleView:
        return await ctx.write(lambda s: create_rule(s, ctx.secrets, request.user, data))

    @patch("/{rule_id:int}", guards=[require_admin], summary="Change some fields of an alert rule")
    async def update(self, ctx: Ctx, request: Request[Principal, Any, Any], rule_id: RuleId,
                     data: JSONBody[AlertRuleUpdate]) -> AlertRuleView:
        return await ctx.write(lambda s: update_rule(s, ctx.secrets, request.user, rule_id, data))

    @delete("/{rule_id:int}", guards=[require_admin], status_code=HTTP_204_NO_CONTENT,
            summary="Delete an alert rule and its alerts")
    async def remove(self, ctx: Ctx, request: Request[Principal, Any, Any], rule_id: RuleId) -> None:
        await ctx.write(lambda s: delete_rule(s, request.user, rule_id))
