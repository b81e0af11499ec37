"""The simulator's Litestar app: one service root and token endpoint per tenant, plus ``/_sim`` admin.

URLs (``<name>`` = tenant1, tenant2, ...):
- ``POST /t/<name>/oauth/token?grant_type=client_credentials`` (client id/secret as Basic or form)
- ``GET /t/<name>/api/v1/<OData path>`` (bearer token or Basic)
- ``/_sim/...`` admin endpoints (no auth; loopback only), see ``simulator/README.md``
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath

from simulator.admin import admin_routes
from simulator.api_logs import ApiCall
from simulator.config import SimulatorConfig
from simulator.faults import Fault
from simulator.responses import JSON, ApiError, authenticate, check_basic, error_response, negotiate
from simulator.routes import dispatch
from simulator.state import SimulatorState
from simulator.tenant import SimTenant

__all__ = ["create_app"]


def _state(request: Request[Any, Any, Any]) -> SimulatorState:
    state: SimulatorState = request.app.state.sim
    return state


async def _apply_fault(fault: Fault, fmt: str, state: SimulatorState) -> Response[bytes] | None:
    """Sleep for latency/timeouts; return the injected error reply, or None to answer normally."""
    if fault.latency_ms:
        await asyncio.sleep(fault.latency_ms / 1000)
    if fault.kind == "timeout":
        deadline = time.monotonic() + fault.hang_s
        while time.monotonic() < deadline and not state.stopping:  # a stopping server lets go at once
            await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return error_response(ApiError(504, "Gateway Timeout", "simulated timeout"), fmt)
    if fault.kind == "429":
        headers = {"Retry-After": f"{fault.retry_after_s:g}"} if fault.retry_after_s is not None else {}
        return error_response(ApiError(429, "Too Many Requests", "rate limit exceeded", headers), fmt)
    if fault.kind in ("500", "502", "503", "504"):
        return error_response(ApiError(int(fault.kind), "Internal Server Error", "simulated server error"), fmt)
    return None


@get("/t/{name:str}/api/v1/{path:path}")
async def api(request: Request[Any, Any, Any], name: FromPath[str], path: FromPath[str]) -> Response[bytes]:
    query = dict(parse_qsl(request.scope["query_string"].decode(), keep_blank_values=True))
    fmt = "json" if query.get("$format") == "json" or "json" in request.headers.get("accept", "") else "xml"
    try:
        tenant = _state(request).tenant(name)
        authenticate(request, tenant)
        tenant.count_api_request()
        fault = tenant.faults.next_fault()
        injected = await _apply_fault(fault, fmt, _state(request))
        if injected is not None:
            return injected
        if not path.endswith(("$value", "$count")):
            fmt = negotiate(query, request.headers.get("accept"))
        base = f"{str(request.base_url).rstrip('/')}/t/{name}/api/v1"
        response = dispatch(ApiCall(tenant, query, base, fmt, request.headers.get("accept")), path.lstrip("/"))
    except ApiError as exc:
        return error_response(exc, fmt)
    if fault.kind == "malformed":
        return _malformed(response)
    return response


def _malformed(response: Response[bytes]) -> Response[bytes]:
    """JSON cut in half; other replies become the HTML page a misrouted proxy answers with 200."""
    if response.media_type == JSON and isinstance(response.content, bytes):
        return Response(content=response.content[: max(1, len(response.content) // 2)], media_type=JSON)
    return Response(content=b"<html><body>Please sign in</body></html>", media_type="text/html")


@get("/t/{name:str}/api/v1")
async def service_root(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
    """The service document; answers ``X-CSRF-Token: Fetch`` with a token as CPI does."""
    try:
        tenant = _state(request).tenant(name)
        authenticate(request, tenant)
    except ApiError as exc:
        return error_response(exc, "json")
    headers = {"X-CSRF-Token": f"sim-csrf-{tenant.name}"} if request.headers.get("x-csrf-token") == "Fetch" else {}
    body = b'{"d":{"EntitySets":["MessageProcessingLogs","IntegrationPackages","IntegrationRuntimeArtifacts"]}}'
    return Response(content=body, media_type=JSON, headers=headers)


@post("/t/{name:str}/oauth/token", status_code=200)
async def token(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
    """Client-credentials grant: id/secret as HTTP Basic or as form fields."""
    try:
        tenant = _state(request).tenant(name)
        fault = tenant.faults.next_fault(token_request=True)
        injected = await _apply_fault(fault, "json", _state(request))
        if injected is not None:
            return injected
        form = dict(parse_qsl((await request.body()).decode(errors="replace")))
        query = dict(parse_qsl(request.scope["query_string"].decode()))
        grant = form.get("grant_type") or query.get("grant_type")
        if grant != "client_credentials":
            raise ApiError(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if not _client_ok(request, form, tenant):
            raise ApiError(401, "invalid_client", "bad client credentials", {"WWW-Authenticate": 'Basic realm="oauth"'})
    except ApiError as exc:
        return error_response(exc, "json")
    value, ttl = tenant.issue_token()
    body = {
        "access_token": value,
        "token_type": "bearer",
        "expires_in": int(ttl),
        "scope": "it!b1234.MonitoringDataRead",
    }
    response = Response(content=_json(body), media_type=JSON, headers={"Cache-Control": "no-store"})
    return _malformed(response) if fault.kind == "malformed" else response


def _client_ok(request: Request[Any, Any, Any], form: dict[str, str], tenant: SimTenant) -> bool:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        return check_basic(value, tenant)
    creds = tenant.credentials
    return form.get("client_id") == creds.client_id and form.get("client_secret") == creds.client_secret


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def create_app(config: SimulatorConfig) -> Litestar:
    """A Litestar app simulating ``config.tenants`` CPI tenants."""
    app = Litestar(
        route_handlers=[api, service_root, token, *admin_routes()],
        debug=False,
        openapi_config=None,
        logging_config=None,
    )
    app.state.sim = SimulatorState(config)
    app.state.started = time.time()
    return app
