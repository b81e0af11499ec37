"""Which Python coroutine implements each catalogued function.

A job function binds itself to its catalog entry once, with ``@implements(catalog.NAME)`` on its
``def`` (the function's name must be the catalog name). Importing the family modules registers them;
:func:`implementations` returns the table and stops a worker at start-up when an implementation has
no catalog entry, is bound twice, or a served queue's catalogued function has no implementation.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

from core.errors import CatalogError
from core.queues.catalog import FUNCTIONS, FunctionSpec, functions_for_queues

__all__ = ["FAMILY_MODULES", "JobFunction", "implementations", "implemented_in", "implements",
           "resolve_for_queues"]

JobFunction = Callable[..., Coroutine[Any, Any, Any]]
F = TypeVar("F", bound=JobFunction)

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

_BOUND: dict[str, JobFunction] = {}


def implements(spec: FunctionSpec) -> Callable[[F], F]:
    """Bind the decorated coroutine to its catalog entry ``spec``."""
    if not isinstance(spec, FunctionSpec) or FUNCTIONS.get(spec.name) is not spec:
        raise CatalogError(f"implements() takes a catalog FunctionSpec handle, not {spec!r}")

    def bind(fn: F) -> F:
        if fn.__name__ != spec.name:
            raise CatalogError(f"{fn.__module__}.{fn.__name__} implements {spec.name!r}: name them the same")
        known = _BOUND.get(spec.name)
        if known is not None and (known.__module__, known.__qualname__) != (fn.__module__, fn.__qualname__):
            raise CatalogError(f"function {spec.name!r} is implemented twice ({known.__module__}, {fn.__module__})")
        _BOUND[spec.name] = fn
        return fn

    return bind


def implemented_in(package: str) -> dict[str, JobFunction]:
    """The functions bound so far by modules of ``package`` (a family's job table, for tests and tools)."""
    return {name: fn for name, fn in _BOUND.items()
            if fn.__module__ == package or fn.__module__.startswith(package + ".")}


def implementations() -> dict[str, JobFunction]:
    """All implemented job functions by catalog name (imports every family module)."""
    for module_name in FAMILY_MODULES:
        importlib.import_module(module_name)
    outside = sorted(name for name, fn in _BOUND.items()
                     if not any(fn.__module__ == m or fn.__module__.startswith(m + ".") for m in FAMILY_MODULES))
    if outside:
        raise CatalogError(f"job functions bound outside the family modules: {', '.join(outside)}")
    return dict(_BOUND)


def resolve_for_queues(queue_names: Iterable[str]) -> dict[str, JobFunction]:
    """Implementations for every catalogued function of these queues, or a CatalogError naming the gaps."""
    impls = implementations()
    specs = functions_for_queues(list(queue_names))
    missing = [s.name for s in specs if s.name not in impls]
    if missing:
        raise CatalogError(f"catalogued functions without implementation: {', '.join(missing)}")
    return {s.name: impls[s.name] for s in specs}
