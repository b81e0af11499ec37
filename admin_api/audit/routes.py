"""``GET /api/v1/audit``: the audit trail, newest first."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from admin_api.audit.schemas import AuditPage
from admin_api.audit.services import list_audit
from admin_api.context import Ctx

__all__ = ["AuditController"]


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]

    @get("/", summary="Audit log (who changed what, when)")
    async def list_entries(
        self, ctx: Ctx,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        before_id: Annotated[int | None, Parameter(ge=1, le=2**62)] = None,
    ) -> AuditPage:
        return AuditPage(items=await ctx.read(lambda s: list_audit(s, limit, before_id)))
