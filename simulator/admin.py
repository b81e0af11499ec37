"""``/_sim`` admin endpoints: list tenants and credentials, script faults, expire tokens, bump flow versions.

No authentication: the simulator binds to loopback and stands in for SAP in tests and demos only.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from simulator.state import SimulatorState
from simulator.tenant import SimTenant

__all__ = ["admin_routes", "tenant_summary"]


def _sim(request: Request[Any, Any, Any]) -> SimulatorState:
    state: SimulatorState = request.app.state.sim
    return state


def _tenant(request: Request[Any, Any, Any], name: str) -> SimTenant:
    tenant = _sim(request).tenants.get(name)
    if tenant is None:
        raise HTTPException(status_code=404, detail=f"no simulated tenant {name!r}")
    return tenant


def tenant_summary(tenant: SimTenant, root: str) -> dict[str, Any]:
    """URLs and credentials of a tenant, as printed on start (simulated secrets are not real secrets)."""
    return {
        "name": tenant.name,
        "api_url": f"{root}/t/{tenant.name}/api/v1",
        "token_url": f"{root}/t/{tenant.name}/oauth/token",
        "client_id": tenant.credentials.client_id,
        "client_secret": tenant.credentials.client_secret,
        "iflows": len(tenant.catalog.iflows),
        "messages": tenant.visible_count(),
    }


@get("/_sim/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/_sim/tenants", sync_to_thread=False)
def list_tenants(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    root = str(request.base_url).rstrip("/")
    return [tenant_summary(t, root) for t in _sim(request).tenants.values()]


@get("/_sim/tenants/{name:str}/faults", sync_to_thread=False)
def get_faults(request: Request[Any, Any, Any], name: FromPath[str]) -> dict[str, Any]:
    return _tenant(request, name).faults.as_json()


@post("/_sim/tenants/{name:str}/faults", status_code=200)
async def set_faults(request: Request[Any, Any, Any], name: FromPath[str]) -> dict[str, Any]:
    """Replace the tenant's faults (``?merge=true`` keeps unspecified settings and appends the script)."""
    tenant = _tenant(request, name)
    try:
        body = await request.json()
    except Exception as exc:
        raise HTTPException(status_code=400, detail="body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise HTTPException(status_code=400, detail="body must be a JSON object")
    try:
        tenant.faults.configure(body, replace=request.query_params.get("merge") != "true")
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return tenant.faults.as_json()


@delete("/_sim/tenants/{name:str}/faults", status_code=204)
async def clear_faults(request: Request[Any, Any, Any], name: FromPath[str]) -> None:
    _tenant(request, name).faults.reset()


@post("/_sim/tenants/{name:str}/tokens/expire", status_code=200)
async def expire_tokens(request: Request[Any, Any, Any], name: FromPath[str]) -> dict[str, int]:
    """Invalidate every issued token: the next API call with one answers 401."""
    return {"expired": _tenant(request, name).expire_tokens()}


@post("/_sim/tenants/{name:str}/tokens/ttl", status_code=200)
async def set_token_ttl(request: Request[Any, Any, Any], name: FromPath[str]) -> dict[str, float]:
    """Lifetime in seconds of tokens issued from now on: ``{"ttl_s": 2}``."""
    body = await request.json()
    ttl = body.get("ttl_s") if isinstance(body, dict) else None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
        raise HTTPException(status_code=400, detail="ttl_s must be a number > 0")
    tenant = _tenant(request, name)
    tenant.token_ttl_s = float(ttl)
    return {"ttl_s": tenant.token_ttl_s}


@post("/_sim/tenants/{name:str}/iflows/{iflow_id:str}/bump-version", status_code=200)
async def bump_version(request: Request[Any, Any, Any], name: FromPath[str], iflow_id: FromPath[str]) -> dict[str, str]:
    """Save an integration flow as a new version (its zip changes)."""
    flow = _tenant(request, name).catalog.bump_version(iflow_id)
    if flow is None:
        raise HTTPException(status_code=404, detail=f"no integration flow {iflow_id!r}")
    return {"id": flow.id, "version": flow.version}


@get("/_sim/tenants/{name:str}/stats", sync_to_thread=False)
def stats(request: Request[Any, Any, Any], name: FromPath[str]) -> dict[str, Any]:
    """Request counters (API, token) and injected faults, for tests that check client behaviour."""
    tenant = _tenant(request, name)
    return {**tenant.stats, "faults": tenant.faults.as_json(), "messages": tenant.visible_count(),
            "requests_by_second": {str(k): v for k, v in sorted(tenant.requests_by_second.items())}}


def admin_routes() -> list[ControllerRouterHandler]:
    return [
        health,
        list_tenants,
        get_faults,
        set_faults,
        clear_faults,
        expire_tokens,
        set_token_ttl,
        bump_version,
        stats,
    ]
