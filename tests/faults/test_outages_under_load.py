"""Fault tier: Redis restart, Redis data loss and a PostgreSQL crash under load, on private services.

One topology (tests/faults/topology.py) lives through the whole module; the tests run in order, each
one a scenario, and the last ones check the end state: every run terminal, no attempt left
``running``, no stored message log lost against the simulator's ground truth, and no process that
had to be restarted by hand. Recovery times are printed (``pytest tests/faults -s``) and kept in
``recovery.json`` of the tier's folder; docs/faults.md quotes them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from admin_api.jobs.pg_pages import FRESH_S
from core.cpi.dates import to_epoch_ms
from core.ledger.reconcile import VANISHED
from core.queues.keys import CONTROLLER_LEADER
from tests.faults.topology import HOT_INTERVAL_S, Topology
from tests.integration.ingestion.conftest import expected_guids

pytestmark = pytest.mark.timeout(240)

SLACK_S = 10.0  # process scheduling on a busy 2-core machine, on top of the designed bound


@pytest.fixture(scope="module")
def topo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    workdir: Path = tmp_path_factory.mktemp("faults")
    topology = Topology.build(workdir)
    try:
        yield topology
    finally:
        topology.close()


def _alive(topo: Topology, *roles: str) -> None:
    dead = [r for r in roles if topo.procs[r].poll() is not None]
    assert not dead, "exited: " + ", ".join(f"{r}\n{topo.log_tail(r)}" for r in dead)


def test_the_topology_polls_every_tenant(topo: Topology) -> None:
    topo.wait(lambda: all(topo.stored_per_tenant().values()), 90, "message logs of every tenant")
    topo.wait(lambda: topo.api_status("/api/v1/jobs") == 200, 30, "the API")


def test_redis_restart_is_ridden_out(topo: Topology) -> None:
    before = topo.stored_per_tenant()
    topo.redis.kill()
    time.sleep(2.0)
    topo.redis.start()
    restarted = time.monotonic()
    # controller and API are still the same processes: nobody exits on a blip
    _alive(topo, "controller", "api")
    leader = topo.wait(lambda: topo.redis.client().get(CONTROLLER_LEADER), 20, "a controller leader again")
    assert topo.cli("controller", "--live").returncode == 0
    topo.wait(lambda: topo.cli("controller", "--status").returncode == 0, 30, "every controller loop healthy")
    assert topo.api_status("/health/live", auth=False) == 200
    topo.revive("Redis restart")  # a worker that exited is restarted here; the last test reports it
    topo.wait(lambda: topo.polled_since(before), 2 * HOT_INTERVAL_S + SLACK_S, "polling after the Redis restart")
    topo.record("Redis restart (2 s down, data kept)", time.monotonic() - restarted + 2.0)
    _alive(topo, "controller", "api")
    assert leader
    log = _controller_log_once_back(topo, "Redis")
    assert log.count("Redis unavailable") == 1, "one line at the start of the outage"
    assert log.count("Redis is back") == 1, "one line on recovery"


def test_redis_data_loss_resumes_polling_within_two_intervals(topo: Topology) -> None:
    with topo.sessions() as session, session.begin():  # a run waiting in Redis when its data is lost
        session.execute(_PARKED, {"job_id": f"faults-parked-{time.time_ns()}"})
    before = topo.stored_per_tenant()
    topo.redis.client().flushdb()  # our private redis-server: its data is gone, as after a restart without it
    lost_at = time.monotonic()
    resumed = topo.wait(lambda: topo.polled_since(before), 2 * HOT_INTERVAL_S + SLACK_S,
                        "polling to resume after Redis lost its data")
    topo.record("Redis data loss (FLUSHDB)", resumed)
    vanished = topo.wait(lambda: topo.sql("SELECT status, reconcile_meta->>'reason' FROM worker_job_run "
                                          "WHERE arq_job_id LIKE 'faults-parked-%'") == [("skipped", VANISHED)],
                         30, "the vanished run to be skipped")
    assert vanished <= 30
    assert time.monotonic() - lost_at < 60
    _alive(topo, "controller", "api")
    topo.revive("Redis data loss")


# A queued run whose job sits (deferred) in Redis: once Redis loses it, reconcile must notice.
_PARKED = __import__("sqlalchemy").text(
    "INSERT INTO worker_job_run (arq_job_id, queue, function, args_redacted, status, attempt, max_attempts, "
    "enqueued_at, updated_at) VALUES (:job_id, 'periodic_run', 'storage_dispatch_task', '{}', 'queued', 0, 1, "
    "now(), now())")


def test_postgres_crash_api_answers_503_then_recovers(topo: Topology) -> None:
    topo.wait(lambda: topo.api_status("/api/v1/jobs") == 200, 30, "the API before the outage")
    before = topo.stored_per_tenant()
    topo.pg.stop("immediate")
    try:
        time.sleep(FRESH_S * 2)  # a page answered just before the crash may be served again this long
        jobs = topo.api("/api/v1/jobs")
        assert jobs.status_code == 503, jobs.text
        assert "PostgreSQL" in jobs.text
        tenants = topo.api("/api/v1/tenants")
        assert tenants.status_code == 503, tenants.text
        ready = topo.api("/health/ready", auth=False)
        assert ready.status_code == 503
        assert ready.json()["database"] is False
        assert topo.api_status("/health/live", auth=False) == 200
        time.sleep(6.0)
        _alive(topo, "controller", "api")
        assert topo.cli("controller", "--live").returncode == 0  # liveness does not need the database
    finally:
        topo.pg.start()
    back = time.monotonic()
    api_back = topo.wait(lambda: topo.api_status("/api/v1/jobs") == 200, 15, "the jobs list after the outage")
    topo.record("PostgreSQL crash: API jobs list 200 again", api_back)
    topo.wait(lambda: topo.cli("controller", "--status").returncode == 0, 30, "controller loops healthy again")
    topo.record("PostgreSQL crash: every controller loop healthy", time.monotonic() - back)
    _alive(topo, "controller", "api")
    topo.revive("PostgreSQL crash")
    topo.wait(lambda: topo.polled_since(before), 2 * HOT_INTERVAL_S + SLACK_S, "polling after the PostgreSQL crash")
    topo.record("PostgreSQL crash: polling stores new logs", time.monotonic() - back)
    log = _controller_log_once_back(topo, "PostgreSQL")
    assert log.count("PostgreSQL unavailable") == 1, "one line at the start of the outage"
    assert log.count("PostgreSQL is back") == 1, "one line on recovery"


def test_worker_kill_is_recovered_by_a_restarted_worker(topo: Topology) -> None:
    before = topo.stored_per_tenant()
    topo.procs["worker"].kill()  # SIGKILL mid-load; the container's restart policy starts a new one
    topo.procs["worker"].wait(10)
    killed = time.monotonic()
    topo.start("worker")
    topo.wait(lambda: topo.polled_since(before), 2 * HOT_INTERVAL_S + topo.settings.job_lease_seconds + SLACK_S,
              "polling after a worker kill")
    topo.record("worker kill (SIGKILL, restarted at once)", time.monotonic() - killed)


def test_controller_kill_the_standby_takes_over(topo: Topology) -> None:
    standby = topo.start_standby()
    client = topo.redis.client()

    def lease_holder() -> bytes | None:
        return cast("bytes | None", client.get(CONTROLLER_LEADER))

    topo.wait(lambda: lease_holder() is not None, topo.settings.controller_lease_seconds * 3 + SLACK_S,
              "the first controller to lead", interval=0.05)  # run alone, the module may have just started
    leader = lease_holder()
    assert leader is not None
    assert f":{topo.procs['controller'].pid}:".encode() in leader
    time.sleep(2.0)  # the standby is up and waiting for the lease
    before = topo.stored_per_tenant()
    topo.procs["controller"].kill()
    topo.procs["controller"].wait(10)
    killed = time.monotonic()
    taken = topo.wait(lambda: f":{standby.pid}:".encode() in (lease_holder() or b""),
                      topo.settings.controller_lease_seconds * 3 + SLACK_S, "the standby to lead", interval=0.05)
    topo.record("controller kill: standby leads", taken)
    topo.procs["controller"] = standby
    topo.wait(lambda: topo.polled_since(before), 2 * HOT_INTERVAL_S + SLACK_S, "polling under the new leader")
    topo.record("controller kill: polling stores new logs", time.monotonic() - killed)


def test_cpi_outage_polling_catches_up_after_it(topo: Topology) -> None:
    topo.set_cpi_faults({"status_5xx_every": 1, "status_5xx_code": 503})
    try:
        time.sleep(10.0)
        _alive(topo, "controller", "api", "worker")
    finally:
        topo.set_cpi_faults(None)
    before = topo.stored_per_tenant()
    back = topo.wait(lambda: topo.polled_since(before), 60, "polling after the CPI outage")
    topo.record("CPI outage (10 s of 503): new logs stored", back)


def test_in_the_end_every_run_is_terminal(topo: Topology) -> None:
    assert topo.stop("controller") == 0  # no new dispatch; the worker drains what is queued
    topo.wait(lambda: topo.sql("SELECT count(*) FROM worker_job_run WHERE status IN "
                               "('queued', 'running', 'retrying')")[0][0] == 0, 90, "every run terminal",
              interval=0.5)


def test_no_attempt_is_left_running(topo: Topology) -> None:
    """Needs lost attempts marked when another worker re-claims the run (runner's part of issue 17)."""
    assert topo.sql("SELECT count(*) FROM worker_job_attempt WHERE status = 'running'")[0][0] == 0


def test_no_stored_message_log_is_lost(topo: Topology) -> None:
    marks = topo.hot_watermarks()
    assert set(marks) == set(topo.tenants)
    for tenant_id, name in topo.tenants.items():
        stored = topo.stored_guids(tenant_id)
        assert len(stored) == len(set(stored)), f"{name}: a message log stored twice"
        missing = expected_guids(topo.sim_config, name, to_epoch_ms(marks[tenant_id])) - set(stored)
        assert not missing, f"{name}: {len(missing)} message logs lost (of {len(stored)} stored)"


def test_no_process_needed_a_restart(topo: Topology) -> None:
    """Needs workers that ride out a Redis restart (runner's part of issue 17)."""
    topo.revive("the end")
    assert topo.revived == []


def _controller_log_once_back(topo: Topology, dependency: str) -> str:
    """The controller's log once it holds the recovery line: the outage tracker writes it at the loop's
    next success, which can come a moment after the checks above already saw the recovery."""
    path = topo.workdir / "controller.log"
    topo.wait(lambda: f"{dependency} is back" in path.read_text(), 30, f"the controller to log {dependency} is back")
    return path.read_text()
