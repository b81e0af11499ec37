"""The lazy implementation table of a worker agrees with what the families really implement."""

from __future__ import annotations

import importlib
import subprocess
import sys

from core.queues.catalog import FUNCTIONS, functions_for_queues
from functions.registry import FAMILY_MODULES, implementations, implemented_in
from functions.runner.implementations import FAMILY_QUEUES, LazyImplementations


def test_family_queue_table_matches_the_families_jobs() -> None:
    assert set(FAMILY_QUEUES) == set(FAMILY_MODULES)
    for module in FAMILY_MODULES:
        importlib.import_module(module)
        jobs = implemented_in(module)
        assert {FUNCTIONS[name].queue for name in jobs} == FAMILY_QUEUES[module], module


def test_every_catalogued_function_of_every_queue_resolves_lazily() -> None:
    """What the start-up check used to do in each worker, done once here for every queue."""
    everything = implementations()
    for queue in sorted({spec.queue for spec in FUNCTIONS.values()}):
        lazy = LazyImplementations([queue])
        for name in lazy:
            assert lazy[name] is everything[name], (queue, name)


def test_lazy_lookup_finds_every_function_of_a_queue() -> None:
    everything = implementations()
    lazy = LazyImplementations(["periodic_run", "stats_cache"])
    names = [spec.name for spec in functions_for_queues(["periodic_run", "stats_cache"])]
    assert sorted(lazy) == sorted(names)
    for name in names:
        assert lazy[name] is everything[name]
    assert lazy.get("read_message_logs") is None  # another group's function is not served


def test_a_periodic_run_worker_starts_without_importing_any_family_or_httpx() -> None:
    code = ("import sys; from functions.runner.process import serve; "
            "from functions.runner.implementations import LazyImplementations; LazyImplementations(['periodic_run']); "
            "print(sorted(m for m in sys.modules if m.startswith(('functions.ingestion', 'functions.periodic', "
            "'functions.platform', 'httpx'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
