"""Archive family: ``archive_cpi_day`` (``archive_data``) and ``integramon archive restore``."""

from __future__ import annotations

from functions.archive.jobs import JOBS

__all__ = ["JOBS"]
