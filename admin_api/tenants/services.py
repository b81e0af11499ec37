"""Tenant changes, each audited; secrets are encrypted with the SecretBox and never read back here."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_api.audit.services import audit
from admin_api.context import Principal
from admin_api.errors import BadInput, Conflict, NotFound
from admin_api.tenants.schemas import TenantCreate, TenantUpdate, TenantView
from core.db.models.tenants import Tenant
from core.defaults import add_default_rule
from core.secrets import SecretBox
from core.urls import UrlRejected, mask_url, require_secure_endpoint, url_host

__all__ = ["create_tenant", "list_tenants", "load_tenant", "public_view", "update_tenant"]


def public_view(t: Tenant) -> TenantView:
    """The response form of a stored tenant; the encrypted secret only says whether there is one."""
    return TenantView(id=t.id, name=t.name, api_url=mask_url(t.api_url),
                      token_url=mask_url(t.token_url) if t.token_url else t.token_url,
                      auth_type=t.auth_type, client_id=t.client_id, has_secret=bool(t.client_secret_encrypted),
                      rate_limit_per_s=t.rate_limit_per_s, active=t.active,
                      created_at=t.created_at, updated_at=t.updated_at)


_ENDPOINTS = ("api_url", "token_url")


def _check_endpoints(fields: dict[str, Any], plain_http_hosts: str) -> None:
    """The stored secret is sent to these URLs: https only (bar the operator's plain-http hosts)."""
    for name in _ENDPOINTS:
        if fields.get(name):
            try:
                require_secure_endpoint(fields[name], plain_http_hosts)
            except UrlRejected as exc:
                raise BadInput(name, str(exc)) from None


def list_tenants(session: Session) -> list[TenantView]:
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


def create_tenant(session: Session, who: Principal, box: SecretBox, body: TenantCreate,
                  plain_http_hosts: str = "loopback") -> TenantView:
    fields = msgspec.structs.asdict(body)
    _check_endpoints(fields, plain_http_hosts)
    secret = fields.pop("client_secret")
    tenant = Tenant(**fields, client_secret_encrypted=box.encrypt(secret))
    session.add(tenant)
    _flush(session, body.name)
    details = {k: v for k, v in fields.items() if k not in _ENDPOINTS}
    details.update({f"{k}_host": url_host(fields.get(k)) for k in _ENDPOINTS})
    audit(session, who, "tenant.create", f"tenant:{tenant.id}", details)
    rule = add_default_rule(session, tenant.id)  # watched from its first minute; the operator may change it
    audit(session, who, "alert_rule.create", f"alert_rule:{rule.id}", {"default": True, "tenant_id": tenant.id})
    return public_view(tenant)


def update_tenant(session: Session, who: Principal, box: SecretBox, tenant_id: int, body: TenantUpdate,
                  plain_http_hosts: str = "loopback") -> TenantView:
    """Apply the given fields. A new ``api_url`` / ``token_url`` is where the stored secret would be
    sent next, so it needs ``client_secret`` in the same request (else an admin, or a stolen admin
    token, could redirect the customer's credentials to a host of their choosing)."""
    tenant = load_tenant(session, tenant_id)
    changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None}
    moved = [k for k in _ENDPOINTS if k in changes and changes[k] != getattr(tenant, k)]
    if moved and "client_secret" not in changes:
        raise BadInput("client_secret", f"changing {' and '.join(moved)} requires the client secret again "
                                        "in the same request")
    _check_endpoints(changes, plain_http_hosts)
    secret = changes.pop("client_secret", None)
    audited = {k: v for k, v in changes.items() if k not in _ENDPOINTS}
    for name in moved:
        audited[name] = {"old_host": url_host(getattr(tenant, name)), "new_host": url_host(changes[name])}
    for key, value in changes.items():
        setattr(tenant, key, value)
    if secret is not None:
        tenant.client_secret_encrypted = box.encrypt(secret)
        audited["client_secret"] = "(changed)"
    _flush(session, tenant.name)
    audit(session, who, "tenant.update", f"tenant:{tenant.id}", audited)
    return public_view(tenant)
