"""The queue catalog: the seed's 11 worker groups and 18 queues, every catalogued function, and
the three tuning profiles, as data.

Everything that enqueues or consumes names a :class:`FunctionSpec` / :class:`QueueSpec` from
here, never a bare string, so a typo fails at start-up (:func:`validate`) instead of at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from core.errors import CatalogError
from core.queues.keys import queue_key
from core.queues.retry import RetryPolicy

__all__ = [
    "API_METRICS_COLLECT_TASK",
    "API_METRICS_DISPATCH_TASK",
    "ARCHIVE_CPI_DAY",
    "CHECK_AND_CREATE_ALERTS",
    "CLEANUP_CONFIG_TASK",
    "CLEANUP_PENDING_CONFIGS_TASK",
    "DEEP_SYNC_IFLOW_ARTIFACTS",
    "DEFAULT_PROFILE",
    "DISPATCH_DUE_AGENT_REPORTS_TASK",
    "DOWNLOAD_IFLOW",
    "FAIL",
    "FUNCTIONS",
    "GET_MESSAGE_DETAILS_ALERT",
    "GET_MESSAGE_DETAILS_COLD",
    "GET_MESSAGE_DETAILS_HOT",
    "GET_PAYLOAD_DETAILS",
    "GROUPS",
    "HOST_METRICS_COLLECT_TASK",
    "HOST_METRICS_DISPATCH_TASK",
    "NOOP",
    "PERIODIC_JOBS",
    "PROCESS_CHAT_TASK",
    "PROCESS_MESSAGE_BATCH",
    "PROCESS_MESSAGE_BATCH_COLD",
    "PROFILES",
    "QUEUES",
    "READ_CORRELATIONS",
    "READ_CUSTOM_HEADERS",
    "READ_MESSAGE_LOGS",
    "READ_MESSAGE_LOGS_COLD",
    "READ_PACKAGES",
    "READ_PAYLOADS",
    "RUN_AGENT_REPORT_TASK",
    "SETTLE_MESSAGE_LOGS",
    "SLEEP",
    "STATS_UPDATE_T",
    "STORAGE_DISPATCH_TASK",
    "STORAGE_SNAPSHOT_DEEP_TASK",
    "STORAGE_SNAPSHOT_QUICK_TASK",
    "FunctionSpec",
    "GroupSpec",
    "QueueSpec",
    "catalog_as_dict",
    "concurrency_for",
    "function",
    "functions_for_queues",
    "group",
    "group_of_queue",
    "queue",
    "validate",
]


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """One queue; ``redis_key`` is the arq sorted set that holds its jobs."""

    name: str
    group: str

    @property
    def redis_key(self) -> str:
        return queue_key(self.name)


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """A worker group: the queues one worker process serves under one concurrency limit."""

    name: str
    queues: tuple[str, ...]
    concurrency: int  # the balanced (seed) default


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """A catalogued job function: its queue, time limit and retry policy."""

    name: str
    queue: str
    timeout_s: float
    retry: RetryPolicy
    description: str
    keep_result_s: int | None = None

    @property
    def group(self) -> str:
        return group_of_queue(self.queue)


_G = GroupSpec
GROUPS: MappingProxyType[str, GroupSpec] = MappingProxyType({g.name: g for g in (
    _G("light", ("messagelog_read", "payload_read", "package_read"), 2),
    _G("light-cold", ("messagelog_read_cold",), 2),
    _G("api-details", ("messagelog_get_details_hot", "payload_get_details"), 3),
    _G("api-details-cold", ("messagelog_get_details_cold",), 2),
    _G("alert-details", ("messagelog_get_details_alert",), 1),
    _G("alerts", ("trigger_alerts",), 1),
    _G("periodic", ("periodic_run", "stats_cache"), 1),
    _G("ai", ("ai",), 1),
    _G("messagelog-process-batch", ("messagelog_process_batch",), 2),
    _G("messagelog-process-batch-cold", ("messagelog_process_batch_cold",), 2),
    _G("medium", ("iflow_download", "archive_data", "messagelog_correlations", "messagelog_customheaders"), 2),
)})

QUEUES: MappingProxyType[str, QueueSpec] = MappingProxyType(
    {q: QueueSpec(q, g.name) for g in GROUPS.values() for q in g.queues}
)

_READ = RetryPolicy(max_retries=5, backoff_base_s=5.0, backoff_max_s=300.0)
_DETAIL = RetryPolicy(max_retries=4, backoff_base_s=3.0, backoff_max_s=120.0)
_BATCH = RetryPolicy(max_retries=5, backoff_base_s=1.0, backoff_max_s=60.0)
_PERIODIC = RetryPolicy(max_retries=2, backoff_base_s=10.0, backoff_max_s=120.0)
_ONCE = RetryPolicy(max_retries=0)

_F = FunctionSpec
# Each catalogued function is a typed handle: producers enqueue with it and its implementation is
# bound to it with ``functions.registry.implements``; no code names a function by a bare string.

# tenant polling and CPI ingestion
READ_MESSAGE_LOGS = _F("read_message_logs", "messagelog_read", 300, _READ,
                       "Poll new message logs of a tenant (hot path)")
READ_MESSAGE_LOGS_COLD = _F("read_message_logs_cold", "messagelog_read_cold", 900, _READ,
                            "Backfill message logs in day windows")
SETTLE_MESSAGE_LOGS = _F("settle_message_logs", "messagelog_read", 600, _READ,
                         "Re-read recent message logs for late arrivals")
READ_PAYLOADS = _F("read_payloads", "payload_read", 300, _READ, "Poll message store entries of a tenant")
READ_PACKAGES = _F("read_packages", "package_read", 300, _READ, "Sync integration packages and artifacts")
DEEP_SYNC_IFLOW_ARTIFACTS = _F("deep_sync_iflow_artifacts", "package_read", 900, _READ,
                               "Sync every iflow and queue changed zips")
GET_MESSAGE_DETAILS_HOT = _F("get_message_details_hot", "messagelog_get_details_hot", 120, _DETAIL,
                             "Error text, attachments and adapter attributes of fresh messages")
GET_MESSAGE_DETAILS_COLD = _F("get_message_details_cold", "messagelog_get_details_cold", 300, _DETAIL,
                              "Message details for backfilled messages")
GET_MESSAGE_DETAILS_ALERT = _F("get_message_details_alert", "messagelog_get_details_alert", 120, _DETAIL,
                               "Message details an open alert needs")
GET_PAYLOAD_DETAILS = _F("get_payload_details", "payload_get_details", 120, _DETAIL,
                         "Persisted payloads of a message")
PROCESS_MESSAGE_BATCH = _F("process_message_batch", "messagelog_process_batch", 300, _BATCH,
                           "Durable upsert of a log batch")
PROCESS_MESSAGE_BATCH_COLD = _F("process_message_batch_cold", "messagelog_process_batch_cold", 600, _BATCH,
                                "Durable upsert of a backfilled log batch")
READ_CORRELATIONS = _F("read_correlations", "messagelog_correlations", 300, _DETAIL,
                       "Link messages by correlation id")
READ_CUSTOM_HEADERS = _F("read_custom_headers", "messagelog_customheaders", 300, _DETAIL,
                         "Custom header properties")
DOWNLOAD_IFLOW = _F("download_iflow", "iflow_download", 600, _DETAIL,
                    "Download an iflow zip when its version changed")
# alerting and archive
CHECK_AND_CREATE_ALERTS = _F("check_and_create_alerts", "trigger_alerts", 300, _PERIODIC, "Evaluate alert rules")
ARCHIVE_CPI_DAY = _F("archive_cpi_day", "archive_data", 3600, _ONCE, "Archive one tenant-day to object storage")
STATS_UPDATE_T = _F("stats_update_t", "stats_cache", 600, _PERIODIC, "Update hourly and daily aggregates")
PERIODIC_JOBS = _F("periodic_jobs", "periodic_run", 600, _PERIODIC, "Run periodic configurations")
# platform operations
DISPATCH_DUE_AGENT_REPORTS_TASK = _F("dispatch_due_agent_reports_task", "periodic_run", 120, _PERIODIC,
                                     "Enqueue due agent reports")
RUN_AGENT_REPORT_TASK = _F("run_agent_report_task", "periodic_run", 600, _PERIODIC,
                           "Build and deliver one agent report")
CLEANUP_CONFIG_TASK = _F("cleanup_config_task", "periodic_run", 300, _PERIODIC, "Remove expired configurations")
CLEANUP_PENDING_CONFIGS_TASK = _F("cleanup_pending_configs_task", "periodic_run", 300, _PERIODIC,
                                  "Remove never-applied pending configs")
STORAGE_SNAPSHOT_QUICK_TASK = _F("storage_snapshot_quick_task", "periodic_run", 120, _PERIODIC,
                                 "Estimated storage use")
STORAGE_SNAPSHOT_DEEP_TASK = _F("storage_snapshot_deep_task", "periodic_run", 900, _PERIODIC,
                                "Exact table and object store sizes")
STORAGE_DISPATCH_TASK = _F("storage_dispatch_task", "periodic_run", 60, _PERIODIC, "Enqueue storage snapshots")
HOST_METRICS_COLLECT_TASK = _F("host_metrics_collect_task", "periodic_run", 60, _PERIODIC,
                               "CPU, memory, disk and load of a host")
HOST_METRICS_DISPATCH_TASK = _F("host_metrics_dispatch_task", "periodic_run", 60, _PERIODIC,
                                "Enqueue host metric collection")
API_METRICS_COLLECT_TASK = _F("api_metrics_collect_task", "periodic_run", 60, _PERIODIC,
                              "Admin API request counts and latency")
API_METRICS_DISPATCH_TASK = _F("api_metrics_dispatch_task", "periodic_run", 60, _PERIODIC,
                               "Enqueue API metric collection")
# AI
PROCESS_CHAT_TASK = _F("process_chat_task", "ai", 300, _PERIODIC, "Answer a question about the monitoring data")
# runtime self-test functions (used by tests, benchmarks and smoke checks)
NOOP = _F("noop", "periodic_run", 30, RetryPolicy(max_retries=0), "Does nothing; measures the runtime", 60)
SLEEP = _F("sleep", "periodic_run", 600, RetryPolicy(max_retries=3, backoff_base_s=0.2, backoff_max_s=2.0),
           "Sleeps for the given seconds; exercises slots, leases and shutdown")
FAIL = _F("fail", "periodic_run", 30, RetryPolicy(max_retries=2, backoff_base_s=0.05, backoff_max_s=0.2),
          "Raises the given error; exercises retries and dead letters")

FUNCTIONS: MappingProxyType[str, FunctionSpec] = MappingProxyType({f.name: f for f in (
    READ_MESSAGE_LOGS, READ_MESSAGE_LOGS_COLD, SETTLE_MESSAGE_LOGS, READ_PAYLOADS, READ_PACKAGES,
    DEEP_SYNC_IFLOW_ARTIFACTS, GET_MESSAGE_DETAILS_HOT, GET_MESSAGE_DETAILS_COLD, GET_MESSAGE_DETAILS_ALERT,
    GET_PAYLOAD_DETAILS,
    PROCESS_MESSAGE_BATCH, PROCESS_MESSAGE_BATCH_COLD, READ_CORRELATIONS, READ_CUSTOM_HEADERS, DOWNLOAD_IFLOW,
    CHECK_AND_CREATE_ALERTS, ARCHIVE_CPI_DAY, STATS_UPDATE_T, PERIODIC_JOBS, DISPATCH_DUE_AGENT_REPORTS_TASK,
    RUN_AGENT_REPORT_TASK, CLEANUP_CONFIG_TASK, CLEANUP_PENDING_CONFIGS_TASK, STORAGE_SNAPSHOT_QUICK_TASK,
    STORAGE_SNAPSHOT_DEEP_TASK, STORAGE_DISPATCH_TASK, HOST_METRICS_COLLECT_TASK, HOST_METRICS_DISPATCH_TASK,
    API_METRICS_COLLECT_TASK, API_METRICS_DISPATCH_TASK, PROCESS_CHAT_TASK, NOOP, SLEEP, FAIL,
)})

DEFAULT_PROFILE = "balanced"
_SAFE = {g: 1 for g in GROUPS} | {"api-details": 2}
_FAST = {g.name: g.concurrency for g in GROUPS.values()} | {
    "light": 4, "api-details": 6, "messagelog-process-batch": 4, "medium": 3}
PROFILES: MappingProxyType[str, MappingProxyType[str, int]] = MappingProxyType({
    "safe": MappingProxyType(_SAFE),
    "balanced": MappingProxyType({g.name: g.concurrency for g in GROUPS.values()}),
    "fast": MappingProxyType(_FAST),
})


def group(name: str) -> GroupSpec:
    """The group called ``name`` or a CatalogError listing the known ones."""
    try:
        return GROUPS[name]
    except KeyError:
        raise CatalogError(f"unknown worker group {name!r}; known: {', '.join(GROUPS)}") from None


def queue(name: str) -> QueueSpec:
    """The queue called ``name`` or a CatalogError listing the known ones."""
    try:
        return QUEUES[name]
    except KeyError:
        raise CatalogError(f"unknown queue {name!r}; known: {', '.join(QUEUES)}") from None


def function(name: str) -> FunctionSpec:
    """The catalogued function called ``name`` or a CatalogError."""
    try:
        return FUNCTIONS[name]
    except KeyError:
        raise CatalogError(f"unknown function {name!r}; see `integramon catalog`") from None


def group_of_queue(queue_name: str) -> str:
    return queue(queue_name).group


def functions_for_queues(queue_names: tuple[str, ...] | list[str]) -> list[FunctionSpec]:
    """Catalogued functions served by these queues."""
    wanted = set(queue_names)
    return [f for f in FUNCTIONS.values() if f.queue in wanted]


def concurrency_for(group_name: str, profile: str = DEFAULT_PROFILE,
                    overrides: dict[str, int] | None = None) -> int:
    """Concurrency of a group under ``profile`` with per-group ``overrides`` applied."""
    if profile not in PROFILES:
        raise CatalogError(f"unknown tuning profile {profile!r}; known: {', '.join(PROFILES)}")
    group(group_name)
    if overrides and group_name in overrides:
        return int(overrides[group_name])
    return PROFILES[profile][group_name]


def validate() -> None:
    """Fail if any queue has no function or any function names a queue that does not exist."""
    for spec in FUNCTIONS.values():
        queue(spec.queue)
    served = {f.queue for f in FUNCTIONS.values()}
    idle = [q for q in QUEUES if q not in served]
    if idle:
        raise CatalogError(f"queues without any catalogued function: {', '.join(idle)}")
    for pname, table in PROFILES.items():
        if set(table) != set(GROUPS):
            raise CatalogError(f"profile {pname!r} does not cover every group")


def catalog_as_dict() -> dict[str, Any]:
    """The whole catalog as plain data (``integramon catalog --json``, the admin API)."""
    return {
        "default_profile": DEFAULT_PROFILE,
        "groups": [
            {"name": g.name, "queues": list(g.queues), "concurrency": g.concurrency}
            for g in GROUPS.values()
        ],
        "queues": [
            {
                "name": q.name,
                "group": q.group,
                "functions": [
                    {"name": f.name, "timeout_s": f.timeout_s, "retry": f.retry.as_dict(),
                     "description": f.description}
                    for f in FUNCTIONS.values() if f.queue == q.name
                ],
            }
            for q in QUEUES.values()
        ],
        "profiles": {name: dict(table) for name, table in PROFILES.items()},
    }
