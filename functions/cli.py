"""Sub-commands of the worker role: ``worker`` and ``enqueue``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from core.errors import ConfigError
from core.queues.catalog import function, group
from core.settings import Settings

__all__ = ["register"]


def register(subparsers: Any) -> None:
    worker = subparsers.add_parser("worker", help="run a worker for one group or one queue")
    target = worker.add_mutually_exclusive_group(required=True)
    target.add_argument("--group", help="worker group to serve (all its queues)")
    target.add_argument("--queue", help="single queue to serve")
    target.add_argument("--all-groups", action="store_true", help="every group in this one process (all-in-one mode)")
    worker.add_argument("--burst", action="store_true", help="exit once the queues are empty")
    worker.add_argument("--concurrency", type=int, help="fixed concurrency (overrides tuning)")
    worker.set_defaults(handler=_worker)

    health = subparsers.add_parser("worker-health", help="exit 0 if a worker of the group on this host is alive")
    health.add_argument("--group", required=True, help="worker group to check")
    health.set_defaults(handler=_worker_health)

    enqueue = subparsers.add_parser("enqueue", help="enqueue a catalogued function")
    enqueue.add_argument("function", help="catalogued function name")
    enqueue.add_argument("--args", default="{}", help="keyword arguments as a JSON object")
    enqueue.add_argument("--count", type=int, default=1, help="how many copies to enqueue")
    enqueue.add_argument("--tenant", type=int, help="tenant id the job belongs to")
    enqueue.set_defaults(handler=_enqueue)


def _enqueue(args: argparse.Namespace, settings: Settings) -> int:
    # imported here: ``integramon worker`` loads this module too and must not pay for the ORM
    from core.job_input import MAX_ENQUEUE_COUNT, check_tenant, parse_arguments
    from core.queues.enqueue import EnqueueRequest
    from core.resources import open_resources

    # the API's rules (core.job_input): bad input is one line on stderr, never a traceback
    spec = function(args.function)  # CatalogError: "unknown function ...; see `integramon catalog`"
    kwargs = parse_arguments("--args", args.args)
    if not 1 <= args.count <= MAX_ENQUEUE_COUNT:
        raise ConfigError(f"--count must be between 1 and {MAX_ENQUEUE_COUNT}")

    async def run() -> list[str]:
        async with open_resources(settings) as res:
            with res.sessions() as session:
                check_tenant(session, "--tenant", args.tenant)
            ids: list[str] = []
            for start in range(0, args.count, 1000):
                batch = [EnqueueRequest(spec, kwargs, tenant_id=args.tenant)
                         for _ in range(min(1000, args.count - start))]
                ids += await res.enqueuer.enqueue_many(batch)
            return ids

    for job_id in asyncio.run(run()):
        sys.stdout.write(job_id + "\n")
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from functions.runner.process import run_worker_process

    return int(run_worker_process(settings, group=args.group, queue=args.queue, burst=args.burst,
                                  concurrency=args.concurrency, all_groups=args.all_groups))


def _worker_health(args: argparse.Namespace, settings: Settings) -> int:
    """Container health check: a fresh heartbeat from a worker of this group on this host."""
    from functions.runner.liveness import local_worker_alive

    group(args.group)
    alive = asyncio.run(local_worker_alive(settings, args.group))
    print("healthy" if alive else f"no live worker of group {args.group} on this host")
    return 0 if alive else 1
