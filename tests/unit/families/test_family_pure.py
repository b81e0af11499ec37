"""Pure parts of the families: redaction, built-in answers, schedules, API stat parsing, bundles, scopes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.db.models.alerting import AlertRule
from core.db.models.scheduling import JobConfig
from functions.ai.builtin import builtin_answer
from functions.ai.context import scrub
from functions.alerting.conditions import group_artifacts, scope_of
from functions.archive.bundle import Bundle, decode, encode
from functions.platform.api_metrics import parse_api_stats
from functions.platform.reports import next_run_after

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_scrub_redacts_credentials_and_keeps_the_first_line() -> None:
    assert scrub("Login failed password=hunter2 for user x\nstack trace") == "Login failed [redacted] for user x"
    assert scrub("Authorization: Bearer abc.def-ghi rejected") == "Authorization: [redacted] rejected"
    assert scrub("client_secret: s3cr3t") == "[redacted]"
    assert scrub("") == ""
    assert len(scrub("x" * 1000)) == 300


def _context() -> dict[str, object]:
    return {"window_hours": 24, "messages_by_status": {"COMPLETED": 8, "FAILED": 2},
            "top_failing_iflows": [{"iflow_id": "Orders", "messages": 5, "failures": 2, "failure_rate": 0.4}],
            "recent_errors": [{"iflow_id": "Orders", "at": "t", "error": "HTTP 500"}], "open_alerts": [],
            "daily": []}


def test_builtin_answer_summary_and_named_iflow() -> None:
    summary = builtin_answer("how are things?", _context())
    assert summary.startswith("In the last 24 hours: 10 messages, 2 failed or escalated.")
    assert "- Orders: 2 of 5 failed (40.0%)" in summary
    focused = builtin_answer("what is wrong with ORDERS?", _context())
    assert focused.splitlines() == ["Orders: 2 of 5 messages failed (40.0%) in the last 24 hours.", "- t: HTTP 500"]
    healthy = {**_context(), "busiest_iflows": [{"iflow_id": "Invoices", "messages": 7, "failures": 0}]}
    assert builtin_answer("and invoices?", healthy) == \
        "Invoices has no failed messages in the last 24 hours (7 messages processed)."


def test_next_run_skips_missed_interval_firings_and_follows_cron() -> None:
    every_hour = JobConfig(name="r", function="run_agent_report_task", interval_seconds=3600)
    assert next_run_after(every_hour, T0, T0 + timedelta(minutes=1)) == T0 + timedelta(hours=1)
    assert next_run_after(every_hour, T0, T0 + timedelta(hours=5, minutes=1)) == T0 + timedelta(hours=6)
    daily = JobConfig(name="r", function="run_agent_report_task", cron="0 6 * * *")
    assert next_run_after(daily, T0, T0) == datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    assert next_run_after(JobConfig(name="r", function="x"), T0, T0) is None


def test_parse_api_stats_groups_fields_by_route() -> None:
    parsed = parse_api_stats({b"count:GET /a": b"3", b"ms:GET /a": b"4.5", b"errors:GET /a": b"1",
                              b"bogus": b"1", b"count:": b"9", b"ms:GET /b": b"nan?"})
    assert parsed == {"GET /a": {"count": 3.0, "errors": 1.0, "ms": 4.5}}  # unreadable values are skipped


def test_bundle_bytes_are_deterministic_and_round_trip() -> None:
    records = {"B": {"message_guid": "B", "details": {"custom_headers": [{"name": "k"}]}},
               "A": {"message_guid": "A", "details": {}}}
    assert encode(records) == encode(dict(reversed(records.items())))
    assert decode(encode(records)) == records
    bundle = Bundle(7, date(2026, 1, 2), records)
    assert bundle.manifest["message_count"] == 2
    assert bundle.manifest["detail_counts"] == {"custom_headers": 1}
    assert bundle.manifest["data_key"] == "archive/tenant=7/day=2026-01-02/messages.ndjson.gz"


def test_scopes_and_artifact_grouping() -> None:
    rule = AlertRule(id=1, tenant_id=3, scope="package", threshold=2, package_id=None, iflow_id=None)
    assert scope_of(rule, "P", "F") == ("package:3:P", "P", None)
    errors = {"F1": "boom", "F2": "", "G1": "bad"}
    found = group_artifacts(rule, errors, {"F1": "P", "F2": "P", "G1": "Q"})
    assert [(f.scope_key, f.count) for f in found] == [("package:3:P", 2)]  # Q has 1 < threshold 2
    assert found[0].summary == "2 deployed artifact(s) in ERROR: F1: boom; F2"
