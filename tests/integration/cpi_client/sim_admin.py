"""Scripting the simulator's ``/_sim`` admin endpoints from async client tests."""

from __future__ import annotations

from typing import Any

import httpx

from simulator.server import SimulatorServer


async def _post(url: str, body: dict[str, Any] | None = None) -> None:
    async with httpx.AsyncClient() as http:
        (await http.post(url, json=body)).raise_for_status()


async def set_faults(sim: SimulatorServer, tenant: str, **faults: object) -> None:
    await _post(f"{sim.url}/_sim/tenants/{tenant}/faults", faults)


async def expire_tokens(sim: SimulatorServer, tenant: str) -> None:
    await _post(f"{sim.url}/_sim/tenants/{tenant}/tokens/expire")


async def set_token_ttl(sim: SimulatorServer, tenant: str, ttl_s: float) -> None:
    await _post(f"{sim.url}/_sim/tenants/{tenant}/tokens/ttl", {"ttl_s": ttl_s})


async def sim_stats(sim: SimulatorServer, tenant: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        stats: dict[str, Any] = (await http.get(f"{sim.url}/_sim/tenants/{tenant}/stats")).json()
    return stats
