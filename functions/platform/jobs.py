"""Job table of the platform operations family: importing the modules binds their job functions
(``@implements``); the table is derived from those bindings."""

from __future__ import annotations

from functions.platform import api_metrics, host_metrics, reports, storage
from functions.registry import JobFunction, implemented_in

__all__ = ["JOBS"]

_MODULES = (api_metrics, host_metrics, reports, storage)
JOBS: dict[str, JobFunction] = implemented_in("functions.platform")
