"""Job table of the platform operations family."""

from __future__ import annotations

from functions.platform.api_metrics import api_metrics_collect_task, api_metrics_dispatch_task
from functions.platform.host_metrics import host_metrics_collect_task, host_metrics_dispatch_task
from functions.platform.reports import dispatch_due_agent_reports_task, run_agent_report_task
from functions.platform.storage import storage_dispatch_task, storage_snapshot_deep_task, storage_snapshot_quick_task
from functions.registry import JobFunction

__all__ = ["JOBS"]

JOBS: dict[str, JobFunction] = {
    "dispatch_due_agent_reports_task": dispatch_due_agent_reports_task,
    "run_agent_report_task": run_agent_report_task,
    "storage_snapshot_quick_task": storage_snapshot_quick_task,
    "storage_snapshot_deep_task": storage_snapshot_deep_task,
    "storage_dispatch_task": storage_dispatch_task,
    "host_metrics_collect_task": host_metrics_collect_task,
    "host_metrics_dispatch_task": host_metrics_dispatch_task,
    "api_metrics_collect_task": api_metrics_collect_task,
    "api_metrics_dispatch_task": api_metrics_dispatch_task,
}
