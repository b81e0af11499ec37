"""Shared records: the heartbeat's encoding and the one loop-health rule."""

from __future__ import annotations

import json

from core.records import Heartbeat, LoopState, decode_heartbeat, encode_heartbeat, is_stalled, loop_healthy
from core.version import VERSION


def test_heartbeat_round_trip_and_tolerant_decoding() -> None:
    beat = Heartbeat(worker_id="w1", group="periodic", queues=["periodic_run"], concurrency=2, running=["a"],
                     host="h", pid=7, version=VERSION, started_at=100.0, last_seen=160.0)
    assert decode_heartbeat(encode_heartbeat(beat)) == beat
    assert json.loads(encode_heartbeat(beat))["last_seen"] == 160.0  # plain JSON for every reader
    assert beat.slots_used == 1
    assert beat.is_fresh(10.0, now=165.0)
    assert not beat.is_fresh(10.0, now=171.0)
    minimal = decode_heartbeat(b'{"group": "ai"}', worker_id="from-index")
    assert minimal is not None
    assert (minimal.worker_id, minimal.group, minimal.running, minimal.age_s()) == ("from-index", "ai", [], None)
    for garbage in (None, b"", b"not json", b"[1, 2]", b'{"worker_id": 5}'):
        assert decode_heartbeat(garbage) is None


def test_version_comes_from_the_package_metadata() -> None:
    assert VERSION[0].isdigit()


def test_loop_health_rule() -> None:
    state = LoopState("dispatch", 5.0, "c1", started_at=1000.0)
    assert loop_healthy(state, now=1014.0)
    assert not loop_healthy(state, now=1016.0)
    state.last_ok_at = 1015.0
    assert loop_healthy(state, now=1029.0)
    state.healthy = False
    assert not loop_healthy(state, now=1016.0)
    assert not is_stalled(LoopState("once", 0.0, None, started_at=0.0), now=10**9)


def test_loop_state_json_and_older_records() -> None:
    state = LoopState("reconcile", 60.0, "c1", started_at=5.0, last_error="boom", restarts=2)
    assert LoopState.from_json(state.to_json()) == state
    old = LoopState.from_json(json.dumps({"name": "x", "interval_s": 1, "last_run_at": 42.0, "extra": True}))
    assert (old.started_at, old.controller_id) == (42.0, None)
