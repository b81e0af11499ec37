"""``integramon controller [--once] [--status] [--live]``: run the controller, run its loops once, report
readiness (leader and every loop's health) or liveness (this host's controller process turns its lease
loop and reaches Redis: the container health check)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import signal
import sys
import time
from typing import Any

from redis.asyncio import Redis

from controller.app import Controller
from controller.lease import current_leader
from controller.liveness import LivenessFile, judge, liveness_path
from controller.loop_state import LoopState, read_loop_states
from core.errors import ServiceUnavailable
from core.outage import OutageLog, backoff_s
from core.resources import check_redis, open_resources
from core.settings import Settings

__all__ = ["format_state", "register"]

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("controller", help="run the controller (leader election + supervised loops)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="run every loop once and exit (non-zero if one failed)")
    mode.add_argument("--status", action="store_true",
                      help="print the leader and each loop's health; non-zero if a loop is unhealthy or no leader")
    mode.add_argument("--live", action="store_true",
                      help="liveness for a container health check: zero while this host's controller process "
                           "turns its lease loop and reaches Redis (loop health is --status)")
    parser.set_defaults(handler=_controller)


def _controller(args: argparse.Namespace, settings: Settings) -> int:
    if args.live:
        verdict = judge(liveness_path(settings))
        print(verdict.detail, file=sys.stdout if verdict.live else sys.stderr)
        return 0 if verdict.live else 1
    if args.status:
        return asyncio.run(_status(settings))
    if args.once:
        return asyncio.run(_once(settings))
    return asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    outages = OutageLog(log, "controller")
    waiting = LivenessFile(liveness_path(settings))
    failures = 0
    while not stop.is_set():
        waiting.stamp(redis_ok=False)
        try:
            async with open_resources(settings) as resources:
                outages.recovered("start")
                await Controller(resources).run(stop)
            return 0
        except ServiceUnavailable as exc:  # Redis or the database not there yet: wait, never exit
            failures += 1
            if outages.failed("start", exc) is None:
                log.error("controller cannot start: %s; retrying", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff_s(failures, 0.5, 5.0, random.random()))
    return 0


async def _once(settings: Settings) -> int:
    async with open_resources(settings) as resources:
        ok, supervisor = await Controller(resources).run_once()
    for state in sorted(supervisor.states.values(), key=lambda s: s.name):
        print(format_state(state, time.time()))
    return 0 if ok else 1


def _ago(moment: float | None, now: float) -> str:
    return "never" if moment is None else f"{max(0.0, now - moment):.1f}s ago"


def format_state(state: LoopState, now: float) -> str:
    """One line per loop, e.g. ``reconcile  ok  every 60s  last run 3.2s ago  last ok 3.2s ago  restarts 0``."""
    line = (f"{state.name:16} {'ok' if state.healthy else 'UNHEALTHY':9} every {state.interval_s:g}s  "
            f"last run {_ago(state.last_run_at, now)}  last ok {_ago(state.last_ok_at, now)}  "
            f"restarts {state.restarts}")
    if state.last_error:
        line += f"  last error ({_ago(state.last_error_at, now)}): {state.last_error}"
    return line


async def _status(settings: Settings) -> int:
    redis = Redis.from_url(settings.redis_url)
    try:
        await check_redis(redis, settings.redis_url)
        leader = await current_leader(redis)
        states = await read_loop_states(redis)
    finally:
        await redis.aclose()
    now = time.time()
    print(f"leader: {leader or 'none'}")
    for state in states:
        print(format_state(state, now) + ("" if state.controller_id == leader else f"  (from {state.controller_id})"))
    if not states:
        print("no loop has reported yet", file=sys.stderr)
    healthy = leader is not None and bool(states) and all(s.healthy for s in states)
    return 0 if healthy else 1
