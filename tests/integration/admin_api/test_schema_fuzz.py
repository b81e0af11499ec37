"""Schemathesis against the published OpenAPI schema: no generated request may cause a server error,
and every answer whose status has a documented schema must match it (response_schema_conformance:
an answer without a documented schema is not a failure).

Bounded: a few examples per operation and a total budget, so the suite stays fast on a shared machine.
Past the budget the remaining operations still run, with fewer examples each: every operation is
always checked (a budget that skipped the tail left whole areas unchecked on a loaded machine).
"""

from __future__ import annotations

import time
from typing import Any, cast

import httpx
import hypothesis
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from schemathesis.checks import response_schema_conformance
from schemathesis.core.result import Ok

from core.settings import Settings
from tests.integration.admin_api.live_server import live_server

EXAMPLES_PER_OPERATION = 25
EXAMPLES_PAST_BUDGET = 4
BUDGET_S = 60.0


def _check_operation(operation: Any, base_url: str, headers: dict[str, str], failures: list[str],
                     examples: int) -> None:
    @given(case=operation.as_strategy())
    @hsettings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        expected_unready = case.formatted_path == "/health/ready" and response.status_code == 503
        if response.status_code >= 500 and not expected_unready:
            failures.append(
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
                f" (query={case.query}, body={case.body!r:.200})"
            )
        try:
            case.validate_response(response, checks=[response_schema_conformance])
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a FailureGroup (a BaseExceptionGroup)
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: schema violation: "
                            f"{str(exc)[:400]}")

    run()


def _seed(base_url: str, headers: dict[str, str]) -> None:
    """Real rows with small ids, so generated ids also hit existing jobs, tenants and schedules."""
    with httpx.Client(base_url=base_url, headers=headers) as http:
        for body in ({"function": "noop"}, {"function": "sleep", "defer_s": 600}, {"function": "fail"}):
            http.post("/api/v1/jobs", json=body).raise_for_status()
        http.post(
            "/api/v1/tenants",
            json={"name": "t1", "api_url": "https://t1.example/api", "client_id": "c", "client_secret": "s"},
        ).raise_for_status()
        http.post(
            "/api/v1/schedules", json={"name": "s1", "function": "noop", "interval_seconds": 60}
        ).raise_for_status()
        http.post(  # tenant t1 has the default rule (id 1); a second one with channels
            "/api/v1/alert-rules",
            json={"name": "r2", "tenant_id": 1, "condition": "no_messages",
                  "channels": [{"type": "webhook", "url": "https://hooks.example/x"}]},
        ).raise_for_status()
        http.put("/api/v1/settings/poll.hot.interval_s", json={"value": 30}).raise_for_status()
        http.put("/api/v1/tenants/1/settings/retention.message_log_days", json={"value": 7}).raise_for_status()


def test_no_server_error_for_any_generated_request(settings: Settings, admin_token: str) -> None:
    headers = {"Authorization": f"Bearer {admin_token}"}
    with live_server(settings) as base_url:
        _seed(base_url, headers)
        schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json", headers=headers)
        failures: list[str] = []
        started = time.monotonic()
        operations = [cast("Ok[Any]", result).ok() for result in schema.get_all_operations()]
        assert len(operations) >= 25
        for operation in operations:
            past_budget = time.monotonic() - started > BUDGET_S
            examples = EXAMPLES_PAST_BUDGET if past_budget else EXAMPLES_PER_OPERATION
            _check_operation(operation, base_url, headers, failures, examples)
    assert not failures, "\n".join(failures[:20])
