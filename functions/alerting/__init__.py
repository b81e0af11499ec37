"""Alerting family: ``check_and_create_alerts`` on ``trigger_alerts``, and notification delivery."""

from __future__ import annotations

from functions.alerting.jobs import JOBS

__all__ = ["JOBS"]
