"""Tenant changes, each audited; secrets are encrypted with the SecretBox and never read back here."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_api.audit.services import audit
from admin_api.context import Principal
from admin_api.errors import Conflict, NotFound
from admin_api.tenants.schemas import TenantCreate, TenantUpdate
from core.db.models.tenants import Tenant
from core.defaults import add_default_rule
from core.secrets import SecretBox

__all__ = ["create_tenant", "list_tenants", "load_tenant", "public_view", "update_tenant"]


def public_view(t: Tenant) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "api_url": t.api_url, "token_url": t.token_url, "auth_type": t.auth_type,
            "client_id": t.client_id, "has_secret": bool(t.client_secret_encrypted),
            "rate_limit_per_s": t.rate_limit_per_s, "active": t.active,
            "created_at": t.created_at.isoformat(), "updated_at": t.updated_at.isoformat()}


def list_tenants(session: Session) -> list[dict[str, Any]]:
    return [public_view(t) for t in session.scalars(select(Tenant).order_by(Tenant.id))]


def load_tenant(session: Session, tenant_id: int) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"no tenant with id {tenant_id}")
    return tenant


def _flush(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a tenant named {name!r} already exists") from exc


def create_tenant(session: Session, who: Principal, box: SecretBox, body: TenantCreate) -> dict[str, Any]:
    fields = msgspec.structs.asdict(body)
    secret = fields.pop("client_secret")
    tenant = Tenant(**fields, client_secret_encrypted=box.encrypt(secret))
    session.add(tenant)
    _flush(session, body.name)
    audit(session, who, "tenant.create", f"tenant:{tenant.id}", {k: v for k, v in fields.items()})
    rule = add_default_rule(session, tenant.id)  # watched from its first minute; the operator may change it
    audit(session, who, "alert_rule.create", f"alert_rule:{rule.id}", {"default": True, "tenant_id": tenant.id})
    return public_view(tenant)


def update_tenant(session: Session, who: Principal, box: SecretBox, tenant_id: int, body: TenantUpdate
                  ) -> dict[str, Any]:
    tenant = load_tenant(session, tenant_id)
    changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None}
    secret = changes.pop("client_secret", None)
    for key, value in changes.items():
        setattr(tenant, key, value)
    if secret is not None:
        tenant.client_secret_encrypted = box.encrypt(secret)
        changes["client_secret"] = "(changed)"
    _flush(session, tenant.name)
    audit(session, who, "tenant.update", f"tenant:{tenant.id}", changes)
    return public_view(tenant)
