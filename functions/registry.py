"""Which Python coroutine implements each catalogued function.

Each family module exposes ``JOBS: dict[str, JobFunction]``; this module gathers them and checks
them against the catalog when a worker starts: an implementation without a catalog entry, or a
served queue whose catalogued functions have no implementation, stops the worker at start-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from core.errors import CatalogError
from core.queues.catalog import FUNCTIONS, functions_for_queues

__all__ = ["FAMILY_MODULES", "JobFunction", "implementations", "resolve_for_queues"]

JobFunction = Callable[..., Coroutine[Any, Any, Any]]

FAMILY_MODULES: tuple[str, ...] = (
    "functions.selftest",
    "functions.ingestion",
    "functions.alerting",
    "functions.archive",
    "functions.stats",
    "functions.periodic",
    "functions.platform",
    "functions.ai",
)


def implementations() -> dict[str, JobFunction]:
    """All implemented job functions by catalog name."""
    found: dict[str, JobFunction] = {}
    for module_name in FAMILY_MODULES:
        jobs: dict[str, JobFunction] = importlib.import_module(module_name).JOBS
        for name, coroutine in jobs.items():
            if name not in FUNCTIONS:
                raise CatalogError(f"{module_name} implements {name!r}, which is not in the catalog")
            if name in found:
                raise CatalogError(f"function {name!r} is implemented twice")
            found[name] = coroutine
    return found


def resolve_for_queues(queue_names: Iterable[str]) -> dict[str, JobFunction]:
    """Implementations for every catalogued function of these queues, or a CatalogError naming the gaps."""
    impls = implementations()
    specs = functions_for_queues(list(queue_names))
    missing = [s.name for s in specs if s.name not in impls]
    if missing:
        raise CatalogError(f"catalogued functions without implementation: {', '.join(missing)}")
    return {s.name: impls[s.name] for s in specs}
