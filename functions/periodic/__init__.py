"""Periodic family: ``periodic_jobs`` (retention, config cleanup) and the two config cleanup tasks."""

from __future__ import annotations

from functions.periodic.jobs import JOBS

__all__ = ["JOBS"]
