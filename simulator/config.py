"""Configuration of a simulator run and the deterministic per-tenant credentials it derives."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

__all__ = ["SimulatorConfig", "TenantCredentials", "tenant_credentials", "tenant_names"]


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """What to simulate. Same seed and ``start_ms`` give byte-identical data.

    ``history_days`` x ``history_per_day`` messages lie in the past (a backfill finds them); after
    ``start_ms`` new messages complete at ``rate`` per second and tenant, ``failure_ratio`` of them FAILED.
    """

    tenants: int = 2
    seed: int = 1
    rate: float = 5.0
    failure_ratio: float = 0.05
    history_days: int = 3
    history_per_day: int = 2000
    start_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    token_ttl_s: float = 3600.0
    hang_s: float = 30.0

    def __post_init__(self) -> None:
        if not 1 <= self.tenants <= 100:
            raise ValueError("tenants must be 1..100")
        if self.rate < 0:
            raise ValueError("rate must be >= 0 messages per second")
        if not 0.0 <= self.failure_ratio <= 1.0:
            raise ValueError("failure_ratio must be between 0 and 1")
        if self.history_days < 0 or self.history_per_day < 0:
            raise ValueError("history_days and history_per_day must be >= 0")


@dataclass(frozen=True, slots=True)
class TenantCredentials:
    """The OAuth client of a simulated tenant (also accepted as HTTP Basic)."""

    name: str
    client_id: str
    client_secret: str = field(repr=False)


def tenant_names(config: SimulatorConfig) -> list[str]:
    return [f"tenant{n}" for n in range(1, config.tenants + 1)]


def tenant_credentials(config: SimulatorConfig, name: str) -> TenantCredentials:
    """``<name>-client`` and a secret derived from the seed, so demos and tests can rebuild it."""
    digest = hashlib.sha256(f"integramon-sim:{config.seed}:{name}".encode()).hexdigest()[:24]
    return TenantCredentials(name=name, client_id=f"{name}-client", client_secret=f"sim-{digest}")
