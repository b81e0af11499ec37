"""The state of one running simulator: its config and tenants (kept on ``app.state.sim``)."""

from __future__ import annotations

from simulator.config import SimulatorConfig
from simulator.responses import ApiError
from simulator.tenant import SimTenant, build_tenants

__all__ = ["SimulatorState"]


class SimulatorState:
    """All tenants of one running simulator (kept on ``app.state.sim``)."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.tenants: dict[str, SimTenant] = build_tenants(config)
        self.stopping = False  # set on shutdown so replies held by a "timeout" fault end at once

    def tenant(self, name: str) -> SimTenant:
        tenant = self.tenants.get(name)
        if tenant is None:
            raise ApiError(404, "Not Found", f"no simulated tenant {name!r} (have {', '.join(self.tenants)})")
        return tenant
