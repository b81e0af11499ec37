"""The queue catalog against the seed's table of worker groups (the document of the system we replace).

The table is stated here, as the seed's "Worker groups and default concurrency" section gives it, so
the suite reads nothing outside the repository.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from core.errors import CatalogError
from core.queues import catalog

# celery-<group> | concurrency | queues, as in the seed (Supervisor programs of the system we replace).
SEED_TABLE = """
celery-light | 2 | messagelog_read, payload_read, package_read |
celery-light-cold | 2 | messagelog_read_cold |
celery-api-details | 3 | messagelog_get_details_hot, payload_get_details |
celery-api-details-cold | 2 | messagelog_get_details_cold |
celery-alert-details | 1 | messagelog_get_details_alert |
celery-alerts | 1 | trigger_alerts |
celery-periodic | 1 | periodic_run, stats_cache |
celery-ai | 1 | ai |
celery-messagelog-process-batch | 2 | messagelog_process_batch |
celery-messagelog-process-batch-cold | 2 | messagelog_process_batch_cold |
celery-medium | 2 | iflow_download, archive_data, messagelog_correlations, messagelog_customheaders |
"""


def seed_table() -> dict[str, tuple[int, list[str]]]:
    """Parse the seed's 'Worker groups and default concurrency' table."""
    rows = re.findall(r"^celery-([a-z-]+) \| (\d+) \| (.+?)[ |]*$", SEED_TABLE, flags=re.M)
    return {name: (int(conc), [q.strip() for q in queues.split(",")]) for name, conc, queues in rows}


def test_seed_table_is_readable() -> None:
    table = seed_table()
    assert len(table) == 11
    assert sum(len(qs) for _, qs in table.values()) == 18


def test_groups_queues_and_balanced_match_the_seed() -> None:
    table = seed_table()
    assert set(catalog.GROUPS) == set(table)
    for name, (concurrency, queues) in table.items():
        assert catalog.GROUPS[name].queues == tuple(queues)
        assert catalog.GROUPS[name].concurrency == concurrency
        assert catalog.PROFILES["balanced"][name] == concurrency
    assert len(catalog.QUEUES) == 18


def test_profiles_follow_the_architecture() -> None:
    safe, fast, balanced = (catalog.PROFILES[p] for p in ("safe", "fast", "balanced"))
    assert {g: n for g, n in safe.items() if n != 1} == {"api-details": 2}
    changed = {g: n for g, n in fast.items() if n != balanced[g]}
    assert changed == {"light": 4, "api-details": 6, "messagelog-process-batch": 4, "medium": 3}
    for g in ("periodic", "alerts", "alert-details", "ai"):
        assert fast[g] == 1


def test_every_queue_has_a_function_and_archive_never_retries() -> None:
    catalog.validate()
    assert catalog.function("archive_cpi_day").retry.max_retries == 0
    assert catalog.function("archive_cpi_day").queue == "archive_data"


def test_unknown_names_fail_clearly() -> None:
    with pytest.raises(CatalogError, match="unknown worker group 'nope'"):
        catalog.group("nope")
    with pytest.raises(CatalogError, match="unknown function"):
        catalog.function("read_message_log")
    with pytest.raises(CatalogError, match="unknown tuning profile"):
        catalog.concurrency_for("light", "turbo")


def test_overrides_win_over_the_profile() -> None:
    assert catalog.concurrency_for("light", "fast") == 4
    assert catalog.concurrency_for("light", "fast", {"light": 7}) == 7


def test_catalog_json_command() -> None:
    out = subprocess.run([sys.executable, "-m", "integramon", "catalog", "--json"], capture_output=True,
                         text=True, check=True).stdout
    data = json.loads(out)
    assert len(data["groups"]) == 11
    assert len(data["queues"]) == 18
    assert data["default_profile"] == "balanced"
