"""Two real controller processes: exactly one acts, the standby takes over within one lease period
after the leader is SIGKILLed; ``integramon controller --status`` reports it and ``--once`` runs
only when no other controller leads."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import cast

import redis as redis_sync

from controller.app import LoopIntervals
from core.queues.keys import CONTROLLER_LEADER, CONTROLLER_LOOPS
from core.settings import Settings
from tests.processes import integramon, process_env, wait_until

LOOPS = len(dataclasses.fields(LoopIntervals))  # one interval per supervised loop
SCHEDULING_SLACK_S = 1.0  # process scheduling on a busy 2-core machine, on top of the lease


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "integramon", "controller", *args],
        env=process_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _leader(r: redis_sync.Redis) -> str | None:
    value = cast("bytes | None", r.get(CONTROLLER_LEADER))
    return value.decode() if value else None


def _loop_owners(r: redis_sync.Redis) -> set[str]:
    return {json.loads(v)["controller_id"] for v in cast("dict[bytes, bytes]", r.hgetall(CONTROLLER_LOOPS)).values()}


def test_one_leader_acts_and_the_standby_takes_over_within_a_lease(
    settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    r = redis_sync.Redis.from_url(redis_url)
    settings = replace(settings, controller_lease_seconds=3.0)  # long enough not to flap on a busy machine
    lease = settings.controller_lease_seconds
    first = integramon(settings, "controller", log=tmp_path / "a.log")
    second = integramon(settings, "controller", log=tmp_path / "b.log")
    procs = {first.pid: first, second.pid: second}
    try:
        leader = str(wait_until(lambda: _leader(r), what="a leader"))
        wait_until(lambda: r.hlen(CONTROLLER_LOOPS) == LOOPS, what="every loop reporting")
        time.sleep(lease * 1.5)  # several renewals: leadership must not flap
        assert _leader(r) == leader
        assert _loop_owners(r) == {leader}  # the standby runs no loop
        leader_proc = next(p for pid, p in procs.items() if f":{pid}:" in leader)
        standby = next(p for p in procs.values() if p is not leader_proc)

        status = _cli(settings, "--status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.splitlines()[0] == f"leader: {leader}"
        assert len(status.stdout.splitlines()) == 1 + LOOPS
        refused = _cli(settings, "--once")
        assert refused.returncode == 2
        assert "another controller is the leader" in refused.stderr

        os.kill(leader_proc.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        successor = str(
            wait_until(
                lambda: (v := _leader(r)) != leader and v,
                timeout=lease * 4,
                interval=0.02,
                what="the standby to take over",
            )
        )
        took = time.monotonic() - killed_at
        assert f":{standby.pid}:" in successor
        assert took <= lease + SCHEDULING_SLACK_S, f"takeover took {took:.2f} s"
        wait_until(lambda: _loop_owners(r) == {successor}, what="the new leader's loop records")

        standby.send_signal(signal.SIGTERM)
        assert standby.wait(20) == 0, (tmp_path / "b.log").read_text() + (tmp_path / "a.log").read_text()
        assert _leader(r) is None  # released on a clean stop, no wait for the TTL
        down = _cli(settings, "--status")
        assert down.returncode == 1
        assert down.stdout.splitlines()[0] == "leader: none"

        once = _cli(settings, "--once")  # nobody leads now: runs every loop once, then exits
        assert once.returncode == 0, once.stdout + once.stderr
        assert len(once.stdout.splitlines()) == LOOPS
        assert all(" ok " in line for line in once.stdout.splitlines()), once.stdout
        assert _leader(r) is None
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
