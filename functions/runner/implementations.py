"""Job implementations a worker imports only when it first needs them.

Importing every family at start-up cost a worker most of its start time and memory (SQLAlchemy
ORM pieces, httpx, the CPI client, report rendering) even for ``--queue periodic_run`` serving
only no-op benchmark jobs. A worker now starts with nothing imported; the first job of a function
imports the families serving its queue (``FAMILY_QUEUES``) once. Completeness (every catalogued
function has exactly one implementation) is checked by ``functions.registry.implementations`` in the
unit tests and by the all-groups mode, which still resolves eagerly.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Mapping

from core.queues.catalog import functions_for_queues
from functions.registry import JobFunction, implemented_in

__all__ = ["FAMILY_QUEUES", "LazyImplementations"]

log = logging.getLogger(__name__)

# Which queues each family module implements functions for (checked against the families' JOBS by
# tests/unit/runner/test_implementations.py, so it cannot drift).
FAMILY_QUEUES: Mapping[str, frozenset[str]] = {
    "functions.selftest": frozenset({"periodic_run"}),
    "functions.ingestion": frozenset({
        "iflow_download", "messagelog_correlations", "messagelog_customheaders", "messagelog_get_details_alert",
        "messagelog_get_details_cold", "messagelog_get_details_hot", "messagelog_process_batch",
        "messagelog_process_batch_cold", "messagelog_read", "messagelog_read_cold", "package_read",
        "payload_get_details", "payload_read"}),
    "functions.alerting": frozenset({"trigger_alerts"}),
    "functions.archive": frozenset({"archive_data"}),
    "functions.stats": frozenset({"stats_cache"}),
    "functions.periodic": frozenset({"periodic_run"}),
    "functions.platform": frozenset({"periodic_run"}),
    "functions.ai": frozenset({"ai"}),
}


class LazyImplementations(Mapping[str, JobFunction]):
    """The implementations of the served queues' functions, imported family by family on first lookup."""

    def __init__(self, queues: list[str]) -> None:
        self._names = [spec.name for spec in functions_for_queues(queues)]
        self._pending = [m for m, served in FAMILY_QUEUES.items() if served & set(queues)]
        self._loaded: dict[str, JobFunction] = {}

    def __getitem__(self, name: str) -> JobFunction:
        if name not in self._names:
            raise KeyError(name)
        while name not in self._loaded and self._pending:
            module = self._pending.pop(0)
            importlib.import_module(module)  # its @implements bind the functions
            jobs = implemented_in(module)
            self._loaded.update({n: f for n, f in jobs.items() if n in self._names})
            log.debug("imported job family %s", module)
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

