"""The client tests run against the same simulator fixtures as the simulator's own tests."""

from __future__ import annotations

from tests.integration.simulator.conftest import CONFIG, _clean_faults, sim, t1

__all__ = ["CONFIG", "_clean_faults", "sim", "t1"]
