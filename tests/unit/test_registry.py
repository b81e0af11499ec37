"""Typed catalog handles: every catalogued function has exactly one implementation bound with
``@implements``, and production code never names a function by a bare string."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.errors import CatalogError
from core.queues import catalog
from core.queues.catalog import FUNCTIONS, NOOP, SLEEP, FunctionSpec
from functions.registry import implementations, implemented_in, implements, resolve_for_queues

ROOT = Path(__file__).resolve().parents[2]


def test_implementations_and_catalog_match_exactly() -> None:
    impls = implementations()
    assert set(impls) == set(FUNCTIONS)
    for name, fn in impls.items():
        assert fn.__name__ == name


def test_every_catalog_entry_is_a_module_level_handle() -> None:
    handles = {value.name: value for value in vars(catalog).values() if isinstance(value, FunctionSpec)}
    assert handles == dict(FUNCTIONS)
    for name, spec in FUNCTIONS.items():
        assert getattr(catalog, name.upper()) is spec


def test_family_tables_are_derived_from_the_bindings() -> None:
    from functions.selftest import JOBS

    assert set(JOBS) == {"noop", "sleep", "fail"}
    assert implemented_in("functions.selftest") == JOBS
    assert set(resolve_for_queues(["stats_cache"])) == {"stats_update_t"}


def test_implements_refuses_what_the_catalog_does_not_know() -> None:
    forged = FunctionSpec("noop", "periodic_run", 1, NOOP.retry, "not the catalog's")
    with pytest.raises(CatalogError, match="handle"):
        implements(forged)

    async def not_sleep() -> None: ...

    with pytest.raises(CatalogError, match="name them the same"):
        implements(SLEEP)(not_sleep)

    async def sleep() -> None: ...

    with pytest.raises(CatalogError, match="implemented twice"):
        implements(SLEEP)(sleep)


_BARE = re.compile(r"""\bfunction\(\s*["']|FUNCTIONS\[\s*["']|JOBS\[\s*["']""")


def test_no_code_resolves_a_function_by_a_bare_string() -> None:
    offenders = []
    for folder in ("core", "functions", "controller", "admin_api", "integramon", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _BARE.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
