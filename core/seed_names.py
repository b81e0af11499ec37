"""Names from the seed system that keep working: old function names in ``job_config`` rows.

The seed called its API-metric tasks ``django_metrics_*``; here they are ``api_metrics_*`` (there is no
Django). A stored schedule naming the old function runs the new one, with one deprecation line in the
log each time it is resolved, so the operator sees which row to rename.
"""

from __future__ import annotations

import logging
from types import MappingProxyType

__all__ = ["DEPRECATED_FUNCTIONS", "current_function_name"]

log = logging.getLogger(__name__)

DEPRECATED_FUNCTIONS: MappingProxyType[str, str] = MappingProxyType({
    "django_metrics_collect_task": "api_metrics_collect_task",
    "django_metrics_dispatch_task": "api_metrics_dispatch_task",
})


def current_function_name(name: str, where: str = "") -> str:
    """``name`` itself, or the function that replaced it (logging a deprecation line)."""
    new = DEPRECATED_FUNCTIONS.get(name)
    if new is None:
        return name
    log.warning("deprecated function name %r%s: running %r; rename it to %r", name,
                f" in {where}" if where else "", new, new)
    return new
