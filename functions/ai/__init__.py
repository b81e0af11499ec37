"""AI family: ``process_chat_task`` on ``ai`` answers questions about the monitoring data."""

from __future__ import annotations

from functions.ai.jobs import JOBS

__all__ = ["JOBS"]
