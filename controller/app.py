"""The controller process: win the leader lease, then run every loop under the supervisor.

A standby waits for the lease (checking again as soon as the current lease can expire, so it takes
over within one lease period of the leader's death); the leader renews every third of the lease
and stops all loops the moment a renewal is refused (another controller holds the key, or Redis lost
it) or when it could not renew for most of a lease, so two controllers never act at once. An
unreachable Redis is an outage, not an exit: the lease loop retries with backoff, logs the outage
once, and leads again after it (re-acquiring the key when Redis came back empty).

The lease loop also stamps a liveness file (``controller --live`` reads it): this process turns and
when it last reached Redis. Per-loop health stays in ``--status`` and ``/health/ready``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass

from redis.exceptions import RedisError

from controller.depth import QueueSampler
from controller.dispatch import PollDispatcher
from controller.health import WorkerHealthWatch
from controller.lease import LeaderLease, current_leader, new_controller_id
from controller.liveness import LivenessFile, liveness_path
from controller.metrics_dispatch import MetricDispatcher
from controller.outbox import OutboxRelay
from controller.pressure import PressureSampler
from controller.reconcile import Reconciler
from controller.retention import Retention
from controller.schedules import ScheduleRunner
from controller.supervisor import LoopSpec, Supervisor
from core.errors import IntegraMonError
from core.outage import OutageLog, backoff_s
from core.resources import Resources
from core.secrets import SecretBox
from core.settings import Settings

__all__ = ["Controller", "LeaseHeld", "LoopIntervals"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoopIntervals:
    """Seconds between iterations of each loop (reconcile: every minute, as the design asks)."""

    health: float = 5.0
    reconcile: float = 60.0
    schedules: float = 5.0
    poll_dispatch: float = 5.0
    metric_dispatch: float = 10.0
    queue_sampler: float = 15.0
    pressure_sampler: float = 15.0
    outbox_relay: float = 1.0
    retention: float = 300.0

    @classmethod
    def for_settings(cls, settings: Settings) -> LoopIntervals:
        return cls(queue_sampler=settings.queue_sample_seconds, pressure_sampler=settings.queue_sample_seconds,
                   health=max(1.0, settings.heartbeat_ttl_seconds / 2), reconcile=settings.reconcile_seconds,
                   retention=settings.retention_seconds)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class Controller:
    """Owns the loops; ``run`` competes for leadership, ``run_once`` runs each loop a single time."""

    def __init__(self, resources: Resources, *, controller_id: str | None = None,
                 intervals: LoopIntervals | None = None, backoff_base_s: float = 1.0) -> None:
        settings = resources.settings
        self.resources = resources
        self.controller_id = controller_id or new_controller_id()
        self.intervals = intervals or LoopIntervals.for_settings(settings)
        self.lease = LeaderLease(resources.redis, self.controller_id, settings.controller_lease_seconds)
        self.is_leader = False
        self._backoff_base_s = backoff_base_s
        self.outages = OutageLog(log, f"controller {self.controller_id}")
        self.liveness = LivenessFile(liveness_path(settings))
        sessions, redis, enqueuer = resources.sessions, resources.redis, resources.enqueuer
        self.health = WorkerHealthWatch(sessions, redis)
        self.reconciler = Reconciler(sessions, redis, settings.stale_queue_minutes,
                                     settings.job_vanished_grace_seconds)
        self.retention = Retention(sessions)
        self.schedules = ScheduleRunner(sessions, enqueuer, SecretBox(settings))
        self.dispatcher = PollDispatcher(sessions, redis, enqueuer)
        self.metrics = MetricDispatcher(sessions, enqueuer)
        self.sampler = QueueSampler(settings, sessions, redis)
        self.pressure = PressureSampler(settings, resources.engine, sessions, redis)
        self.relay = OutboxRelay(settings, sessions)

    def loop_specs(self) -> list[LoopSpec]:
        """In the order ``--once`` runs them: heartbeats first, so reconciliation quotes fresh ones."""
        i = self.intervals
        return [
            LoopSpec("health", i.health, self.health.tick),
            LoopSpec("reconcile", i.reconcile, self.reconciler.tick),
            LoopSpec("schedules", i.schedules, self.schedules.tick),
            LoopSpec("poll_dispatch", i.poll_dispatch, self.dispatcher.tick),
            LoopSpec("metric_dispatch", i.metric_dispatch, self.metrics.tick),
            LoopSpec("queue_sampler", i.queue_sampler, self.sampler.tick),
            LoopSpec("pressure_sampler", i.pressure_sampler, self.pressure.tick),
            # short ceiling: delivery resumes within a few seconds of the broker's return
            LoopSpec("outbox_relay", i.outbox_relay, self.relay.tick, backoff_max_s=2.0),
            LoopSpec("retention", i.retention, self.retention.tick),
        ]

    def _supervisor(self) -> Supervisor:
        # on stop or lease loss an in-flight iteration may finish (bounded by half a lease) so its
        # transaction is not torn apart; the loops' own guards make a late write harmless
        return Supervisor(self.resources.redis, self.controller_id, self.loop_specs(),
                          backoff_base_s=self._backoff_base_s, drain_s=max(1.0, self.lease.lease_ms / 2000),
                          outages=self.outages)

    async def run(self, stop: asyncio.Event) -> None:
        """Compete for the lease until ``stop`` is set; lead while holding it."""
        failures = 0
        try:
            while not stop.is_set():
                self.liveness.stamp(redis_ok=failures == 0)
                try:
                    if await self.lease.try_acquire():
                        self._lease_reachable()
                        failures = 0
                        await self._lead(stop)
                        continue
                    self._lease_reachable()
                    failures = 0
                    await _wait(stop, await self.lease.wait_hint_s())
                except (RedisError, OSError) as exc:
                    failures += 1
                    self.outages.failed("lease", exc)
                    self.liveness.stamp(redis_ok=False)
                    await _wait(stop, backoff_s(failures, 0.2, 2.0, random.random()))
        finally:
            with contextlib.suppress(RedisError, OSError):
                await self.lease.release()
            await self.relay.close()
            self.liveness.remove()

    def _lease_reachable(self) -> None:
        self.outages.recovered("lease")

    async def _lead(self, stop: asyncio.Event) -> None:
        log.info("controller %s is now the leader", self.controller_id)
        self.is_leader = True
        task = asyncio.create_task(self._supervisor().run(), name="supervisor")
        held_until = time.monotonic() + self.lease.lease_ms / 1000
        try:
            while not stop.is_set() and not task.done():
                await _wait(stop, self.lease.lease_ms / 3000)
                if stop.is_set():
                    break
                renewed = await self._renewed()
                self.liveness.stamp(redis_ok=renewed is not None)
                if renewed:
                    held_until = time.monotonic() + self.lease.lease_ms / 1000
                    continue
                if renewed is False:
                    log.error("controller %s lost the leader lease; stopping its loops", self.controller_id)
                    break
                # Redis unreachable: nobody can take the key meanwhile, but stop before it could expire
                if time.monotonic() > held_until - self.lease.lease_ms / 3000:
                    log.error("controller %s could not renew its lease in time; stopping its loops",
                              self.controller_id)
                    break
        finally:
            self.is_leader = False
            task.cancel()
            (outcome,) = await asyncio.gather(task, return_exceptions=True)
        if isinstance(outcome, Exception):  # never expected: loops catch their own errors
            log.error("controller %s: supervisor stopped: %r; restarting it", self.controller_id, outcome)
            await _wait(stop, 1.0)

    async def _renewed(self) -> bool | None:
        """True renewed, False refused (the key is gone or another's), None when Redis did not answer."""
        try:
            renewed = await self.lease.renew()
        except (RedisError, OSError) as exc:
            self.outages.failed("lease", exc)
            return None
        self.outages.recovered("lease")
        return renewed

    async def run_once(self) -> tuple[bool, Supervisor]:
        """Every loop once under the lease (refused while another controller leads)."""
        if not await self.lease.try_acquire():
            raise LeaseHeld(await _holder(self))
        supervisor = self._supervisor()
        renewer = asyncio.create_task(self._keep_lease())
        try:
            ok = await supervisor.run_once()
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
            with contextlib.suppress(RedisError, OSError):
                await self.lease.release()
            await self.relay.close()
        return ok, supervisor

    async def _keep_lease(self) -> None:
        while True:
            await asyncio.sleep(self.lease.lease_ms / 3000)
            await self._renewed()


class LeaseHeld(IntegraMonError):
    """``--once`` was asked while another controller holds the lease."""

    def __init__(self, holder: str) -> None:
        super().__init__(f"another controller is the leader ({holder}); not running the loops")


async def _holder(controller: Controller) -> str:
    return await current_leader(controller.resources.redis) or "unknown"
