#!/usr/bin/env python3
"""Container health check for every role of the IntegraMon image (installed as ``integramon-healthcheck``).

One image runs every role (worker, controller, api, simulator, migrate) by command, so its single
HEALTHCHECK cannot be written per role in the Dockerfile. Instead this probe reads the command line
of the container's ``integramon`` process and runs the probe of that role:

- ``worker --group G`` / ``--queue Q``: ``integramon worker-health --group G`` (the worker's own
  heartbeat in Redis, written by a worker of that group on this host, is fresh);
- ``controller``: ``integramon controller --live`` (this process, its Redis connection and its lease
  loop: NOT the per-loop health of ``--status``, or a RabbitMQ outage would get every controller
  replaced over and over);
- ``api``: ``GET /health/live`` on the API port answers 200;
- ``simulator``: ``GET /_sim/health`` answers 200;
- ``migrate``: a one-shot job; healthy while it runs.

Exit status follows Docker's contract: 0 healthy, 1 unhealthy. Standard library only, so the probe
itself cannot break on an import of ours; only the worker probe maps a queue to its group.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROLES = ("worker", "controller", "api", "simulator", "migrate")
PROBE_TIMEOUT_S = 8.0


def integramon_args(argv: Sequence[str]) -> list[str] | None:
    """The arguments after ``integramon`` (or ``python -m integramon``) when they start a role."""
    for index, arg in enumerate(argv):
        if os.path.basename(arg) == "integramon":
            rest = list(argv[index + 1 :])
        elif arg == "-m" and argv[index + 1 : index + 2] == ["integramon"]:
            rest = list(argv[index + 2 :])
        else:
            continue
        if rest and rest[0] in ROLES and "--status" not in rest and "--live" not in rest:
            return rest
        return None
    return None


def find_role_args(proc: Path = Path("/proc")) -> list[str] | None:
    """Command line of the oldest ``integramon`` role process in this container (lowest pid)."""
    pids = sorted(int(entry.name) for entry in proc.iterdir() if entry.name.isdigit())
    for pid in pids:
        try:
            raw = (proc / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        args = integramon_args([part.decode(errors="replace") for part in raw.split(b"\0") if part])
        if args is not None:
            return args
    return None


def option(args: Sequence[str], name: str) -> str | None:
    """Value of ``--name VALUE`` or ``--name=VALUE`` in ``args``."""
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def worker_group(args: Sequence[str]) -> str:
    """The group whose heartbeat proves this worker alive (a single-queue worker reports its queue's group)."""
    group = option(args, "--group")
    if group:
        return group
    from core.queues.catalog import GROUPS, group_of_queue

    queue = option(args, "--queue")
    if queue:
        return group_of_queue(queue)
    if "--all-groups" in args:  # all-in-one: every group beats, so any one proves the process alive
        return next(iter(GROUPS))
    raise ValueError("worker started without --group, --queue or --all-groups")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def command_ok(command: Sequence[str]) -> bool:
    try:
        return subprocess.run(command, timeout=PROBE_TIMEOUT_S, check=False,
                              stdout=subprocess.DEVNULL).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass(frozen=True)
class Probe:
    """What to check: ``command`` (argv exits 0), ``http`` (URL answers 200) or ``none``."""

    kind: str
    target: tuple[str, ...] = ()


def probe_for(args: Sequence[str], environ: Mapping[str, str]) -> Probe:
    """The probe of the role that ``args`` (the words after ``integramon``) start."""
    role = args[0]
    if role == "worker":
        return Probe("command", ("integramon", "worker-health", "--group", worker_group(args)))
    if role == "controller":
        return Probe("command", ("integramon", "controller", "--live"))
    if role == "api":
        port = int(option(args, "--port") or environ.get("INTEGRAMON_API_PORT") or 8000)
        return Probe("http", (f"http://127.0.0.1:{port}/health/live",))
    if role == "simulator":
        sim_port = option(args, "--port") or "18080"  # the simulator's default port
        return Probe("http", (f"http://127.0.0.1:{sim_port}/_sim/health",))
    return Probe("none")  # migrate: one-shot, alive while it runs


def run_probe(probe: Probe) -> bool:
    if probe.kind == "command":
        return command_ok(probe.target)
    if probe.kind == "http":
        return http_ok(probe.target[0])
    return True


def main() -> int:
    args = find_role_args()
    if args is None:
        print("integramon-healthcheck: no integramon role process in this container", file=sys.stderr)
        return 1
    try:
        healthy = run_probe(probe_for(args, os.environ))
    except ValueError as exc:
        print(f"integramon-healthcheck: {exc}", file=sys.stderr)
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
