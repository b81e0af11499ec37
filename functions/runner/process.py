"""Entry point of one worker process: resolve what it serves, open connections, handle signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, cast

from core.errors import ConfigError, ServiceUnavailable
from core.heap import settle_heap
from core.outage import OutageLog, backoff_s
from core.queues.catalog import GROUPS, validate
from core.queues.catalog import group as catalog_group
from core.queues.catalog import queue as catalog_queue
from core.resources import Resources, open_resources
from core.settings import Settings
from functions.registry import resolve_for_queues
from functions.runner.implementations import LazyImplementations
from functions.runner.tuning import ConcurrencySource
from functions.runner.worker import GroupWorker, WorkerStats

if TYPE_CHECKING:
    from functions.runner.scale_in import ScaleInProtection

__all__ = ["run_worker_process", "serve", "serve_all_groups"]

log = logging.getLogger(__name__)


def _protection(settings: Settings) -> AbstractAsyncContextManager[ScaleInProtection | None]:
    """ECS task scale-in protection while busy; ECS sets ECS_AGENT_URI in every task, elsewhere it is off
    (and its HTTP client is not even imported: start-up time and memory)."""
    agent_uri = os.environ.get("ECS_AGENT_URI")
    if not agent_uri:
        return contextlib.nullcontext()
    from functions.runner.scale_in import scale_in_protection

    return scale_in_protection(agent_uri, expires_minutes=settings.scale_in_protection_minutes,
                               idle_s=settings.scale_in_idle_seconds)


@asynccontextmanager
async def _resources_when_reachable(settings: Settings, pool_size: int) -> AsyncIterator[Resources]:
    """Open the process's resources, waiting with backoff while Redis or the database is not there yet.

    A worker started during an outage (or before its stores, as compose or ECS may do) waits instead of
    exiting: one log line when it starts waiting and one when the stores answer. Other start errors
    (an old schema, bad settings) still end the process with their one line.
    """
    outages = OutageLog(log, "worker")
    failures = 0
    while True:
        async with AsyncExitStack() as stack:
            try:
                resources = await stack.enter_async_context(open_resources(settings, pool_size=pool_size,
                                                                                 direct_enqueue=False))
            except ServiceUnavailable as exc:
                failures += 1
                if outages.failed("start", exc) is None:
                    raise
                await asyncio.sleep(backoff_s(failures, 0.5, 5.0, random.random()))
                continue
            outages.recovered("start")
            yield resources
            return


def _targets(group: str | None, queue: str | None) -> tuple[str, list[str], str]:
    """(group name, queues served, display name) for ``--group`` or ``--queue``."""
    if group:
        return group, list(catalog_group(group).queues), group
    if queue:
        spec = catalog_queue(queue)
        return spec.group, [spec.name], spec.name
    raise ConfigError("give --group NAME or --queue NAME")


async def serve(settings: Settings, *, group: str | None = None, queue: str | None = None, burst: bool = False,
                concurrency: int | None = None, install_signals: bool = True) -> WorkerStats:
    """Run a worker until stopped (or, with ``burst``, until its queues are empty)."""
    validate()
    group_name, queues, display = _targets(group, queue)
    implementations = LazyImplementations(queues)  # families are imported by their first job
    fixed = concurrency or settings.worker_concurrency
    if fixed is not None and fixed < 1:
        raise ConfigError("--concurrency must be at least 1")
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=32, thread_name_prefix="integramon"))
    async with _resources_when_reachable(settings, 10) as resources, _protection(settings) as protection:
        source = ConcurrencySource(resources, group_name, fixed=fixed,
                                   profile_override=settings.worker_profile)
        worker = GroupWorker(resources, group=group_name, queues=queues, implementations=implementations,
                             concurrency=source, burst=burst, name=display)
        worker.busy_listener = protection.listener() if protection else None
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, worker.request_stop)
            settle_heap(collect=False)  # a worker process (not a test calling serve()): see core.heap
        return await worker.run()


async def serve_all_groups(settings: Settings, *, burst: bool = False) -> list[WorkerStats]:
    """Every group in one process, one GroupWorker (own slots) per group: the all-in-one mode,
    where eleven separate processes would cost memory and start-up time for no isolation gain."""
    validate()
    targets = [(name, list(spec.queues)) for name, spec in GROUPS.items()]
    implementations = {name: resolve_for_queues(queues) for name, queues in targets}
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=48, thread_name_prefix="integramon"))
    async with _resources_when_reachable(settings, 20) as resources:
        workers = [
            GroupWorker(resources, group=name, queues=queues, implementations=implementations[name],
                        concurrency=ConcurrencySource(resources, name, fixed=settings.worker_concurrency,
                                                      profile_override=settings.worker_profile),
                        burst=burst)
            for name, queues in targets
        ]

        def stop_all() -> None:
            for worker in workers:
                worker.request_stop()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop_all)
        settle_heap(collect=False)  # see core.heap
        return list(await asyncio.gather(*(w.run() for w in workers)))


def run_worker_process(settings: Settings, *, group: str | None, queue: str | None, burst: bool,
                       concurrency: int | None, all_groups: bool = False) -> int:
    """Blocking entry used by ``integramon worker``; uses uvloop when it is installed."""
    coro: Coroutine[Any, Any, Any]
    if all_groups:
        coro = serve_all_groups(settings, burst=burst)
    else:
        coro = serve(settings, group=group, queue=queue, burst=burst, concurrency=concurrency)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is optional (not on Windows)
        stats = asyncio.run(coro)
    else:
        stats = uvloop.run(coro)
    log.info("worker exited: %s", stats)
    every = cast("list[WorkerStats]", stats if isinstance(stats, list) else [stats])
    failures = [s.failure for s in every if s.failure]
    if failures:
        log.error("worker stopped because a helper failed: %s", "; ".join(failures))
        return 1
    return 0
