"""Platform operations family (``periodic_run``): agent reports, storage snapshots, host and API metrics."""

from __future__ import annotations

from functions.platform.jobs import JOBS

__all__ = ["JOBS"]
