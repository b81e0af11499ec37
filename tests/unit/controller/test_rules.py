"""Pure rules of the controller: poll intervals, reconciliation decisions, schedule arithmetic, loop health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from controller.cli import format_state
from controller.dispatch import DEFAULT_INTERVALS, resolve_intervals
from controller.health import heartbeat_row
from controller.loop_state import LoopState, is_stalled
from controller.schedules import next_run_after
from core.ledger.reconcile import JobState, _Candidate, decide


def test_tenant_interval_wins_over_global_which_wins_over_default() -> None:
    global_, per_tenant = resolve_intervals([
        (None, "poll.hot.interval_s", 30),
        (7, "poll.hot.interval_s", 10),
        (None, "poll.unknown.interval_s", 5),
        (None, "poll.cold.interval_s", "soon"),
    ])
    assert global_["hot"] == 30
    assert per_tenant == {(7, "hot"): 10.0}
    assert global_["cold"] == DEFAULT_INTERVALS["cold"] == 3600
    assert global_["deep_sync"] == 21600
    assert "unknown" not in global_


def _candidate(status: str, worker: str | None = "w1") -> _Candidate:
    return _Candidate(1, "job-1", "periodic_run", status, worker, 1)


def test_stale_waiting_rows_are_skipped_only_when_gone_from_redis() -> None:
    assert decide(_candidate("queued"), JobState.RUNNABLE, set()) is None
    assert decide(_candidate("queued"), JobState.IN_PROGRESS, set()) is None
    gone = decide(_candidate("queued"), JobState.GONE, set())
    assert gone is not None
    assert (gone.new_status, gone.reason) == ("skipped", "stale_queued")
    retry = decide(_candidate("retrying"), JobState.GONE, set())
    assert retry is not None
    assert retry.reason == "stale_retrying"


def test_running_rows_follow_heartbeat_then_lease_then_queue() -> None:
    assert decide(_candidate("running"), JobState.GONE, {"w1"}) is None  # alive but slow
    assert decide(_candidate("running"), JobState.IN_PROGRESS, set()) is None  # lease not expired yet
    requeued = decide(_candidate("running"), JobState.RUNNABLE, set())
    assert requeued is not None
    assert (requeued.new_status, requeued.reason) == ("retrying", "worker_lost_requeued")
    lost = decide(_candidate("running", worker=None), JobState.GONE, {"w1"})
    assert lost is not None
    assert (lost.new_status, lost.previous_status) == ("skipped", "running")


def test_interval_schedule_advances_from_now_and_cron_picks_the_next_slot() -> None:
    now = datetime(2026, 1, 1, 10, 7, 30, tzinfo=UTC)
    assert next_run_after(None, 600, now) == now + timedelta(minutes=10)
    assert next_run_after("*/15 * * * *", None, now) == datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
    assert next_run_after(None, None, now) is None


def test_loop_is_stalled_after_three_intervals_without_success() -> None:
    state = LoopState("dispatch", 5.0, "c1", started_at=1000.0)
    assert not is_stalled(state, now=1014.0)
    assert is_stalled(state, now=1016.0)
    state.last_ok_at = 1015.0
    assert not is_stalled(state, now=1029.0)
    assert LoopState.from_json(state.to_json()) == state


def test_status_line_names_loop_health_and_error() -> None:
    state = LoopState("reconcile", 60.0, "c1", started_at=0.0, last_run_at=90.0, last_ok_at=30.0,
                      last_error="ServiceUnavailable: down", last_error_at=90.0, restarts=2, healthy=False)
    line = format_state(state, now=100.0)
    assert line.startswith("reconcile")
    assert "UNHEALTHY" in line
    assert "restarts 2" in line
    assert "last ok 70.0s ago" in line
    assert "ServiceUnavailable: down" in line


def test_heartbeat_record_becomes_a_worker_row() -> None:
    row = heartbeat_row({"worker_id": "w1", "group": "periodic", "queues": ["periodic_run"], "concurrency": 2,
                         "running": ["a"], "host": "h", "pid": 9, "started_at": 0.0, "last_seen": 60.0})
    assert row["status"] == "live"
    assert row["last_seen"] == datetime(1970, 1, 1, 0, 1, tzinfo=UTC)
    assert row["running"] == ["a"]
    assert row["group_name"] == "periodic"


def test_a_young_waiting_row_whose_job_vanished_is_skipped_unless_it_already_finished() -> None:
    young = _Candidate(1, "job-1", "messagelog_read", "queued", None, 0, stale=False)
    vanished = decide(young, JobState.GONE, set())
    assert vanished is not None
    assert (vanished.new_status, vanished.reason) == ("skipped", "job vanished")
    assert decide(young, JobState.RUNNABLE, set()) is None  # in Redis: the 45-minute rule decides later
    finished = _Candidate(1, "job-1", "messagelog_read", "retrying", None, 1, stale=False, has_result=True)
    assert decide(finished, JobState.GONE, set()) is None  # its ending is on its way from the worker
