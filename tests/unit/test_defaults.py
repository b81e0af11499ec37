"""The defaults are defined once and agree everywhere they appear: migration 0801, docs/schedules.md,
the catalog, the metric list the API validates against, and the seed names."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from controller.metrics_dispatch import METRIC_DISPATCH_FUNCTIONS
from core.defaults import DEFAULT_SCHEDULES
from core.metric_settings import METRICS
from core.queues.catalog import FUNCTIONS
from core.seed_names import DEPRECATED_FUNCTIONS, current_function_name
from functions.platform.schedule import DEFAULT_INTERVALS

ROOT = Path(__file__).resolve().parents[2]
MIGRATION = next((ROOT / "core/db/migrations/versions").glob("2026_12_01_0801_*.py"))


def _migration_schedules() -> tuple[tuple[str, str, int, bool, int], ...]:
    spec = importlib.util.spec_from_file_location("m0801", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.SCHEDULES)


def test_migration_creates_exactly_the_declared_defaults() -> None:
    assert _migration_schedules() == tuple((d.name, d.function, d.interval_seconds, d.per_tenant, d.first_after_s)
                                           for d in DEFAULT_SCHEDULES)


def test_every_default_names_a_catalogued_function_and_is_documented() -> None:
    doc = (ROOT / "docs/schedules.md").read_text()
    for default in DEFAULT_SCHEDULES:
        assert default.function in FUNCTIONS
        assert f"| `{default.name}` | `{default.function}` |" in doc


def test_metric_settings_the_api_accepts_are_the_ones_dispatched() -> None:
    assert set(METRIC_DISPATCH_FUNCTIONS) | set(DEFAULT_INTERVALS) == set(METRICS)
    assert METRICS["storage_deep"].default_interval_s == DEFAULT_INTERVALS["storage_deep"]


def test_seed_function_names_resolve_to_catalogued_functions() -> None:
    for old, new in DEPRECATED_FUNCTIONS.items():
        assert new in FUNCTIONS
        assert old not in FUNCTIONS
        assert current_function_name(old) == new
    assert current_function_name("noop") == "noop"


def test_cold_backfill_depth_is_registered_with_the_readers_default() -> None:
    from core.config_keys import config_key
    from functions.ingestion.cold import DAYS_KEY, DEFAULT_DAYS, MAX_DAYS

    key = config_key(DAYS_KEY)
    assert (key.default, key.maximum) == (DEFAULT_DAYS, MAX_DAYS)
