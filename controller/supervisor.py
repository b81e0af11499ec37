"""Runs the controller's loops as supervised asyncio tasks.

Each loop body is one iteration; the supervisor calls it every ``interval_s``. A body that raises
is recorded (last_error, restarts) and run again after an exponential backoff capped per loop (the
outbox relay retries every couple of seconds so delivery resumes soon after the broker returns);
a watchdog marks a loop unhealthy when it has had no successful iteration for three intervals
(stalled or failing), and publishes every loop's record to Redis so operators can see it.

A failure caused by a backing service (Redis, PostgreSQL, RabbitMQ) is an outage: the shared
:class:`core.outage.OutageLog` writes one line when it starts and one when every loop is past it.
Any other failure is a bug: logged with its traceback once, repeats of it are logged at debug level.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from controller.loop_state import LoopState, is_stalled, write_loop_states
from core.outage import OutageLog, backoff_s
from core.urls import mask_text

__all__ = ["LoopSpec", "Supervisor"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoopSpec:
    """A named loop: its body (one iteration) and how often it runs."""

    name: str
    interval_s: float
    body: Callable[[], Awaitable[object]]
    backoff_max_s: float = 5.0  # longest pause between retries of a failing body (recovery within it)


class Supervisor:
    """Keeps every loop running and its health record current."""

    def __init__(self, redis: Redis, controller_id: str, loops: Sequence[LoopSpec], *,
                 backoff_base_s: float = 1.0, backoff_max_s: float | None = None, drain_s: float = 10.0,
                 outages: OutageLog | None = None) -> None:
        self._redis = redis
        self._drain_s = drain_s
        self._loops = list(loops)
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s  # caps every loop's own ceiling (tests)
        self._outages = outages or OutageLog(log, f"controller {controller_id}")
        self._repeated: dict[str, str] = {}  # loop -> the bug it keeps failing with (logged once)
        now = time.time()
        self.states = {spec.name: LoopState(spec.name, spec.interval_s, controller_id, now) for spec in loops}

    async def run(self) -> None:
        """Run all loops and the watchdog until cancelled."""
        await self._publish(list(self.states.values()))
        tasks = [asyncio.create_task(self._run_loop(spec), name=f"loop:{spec.name}") for spec in self._loops]
        tasks.append(asyncio.create_task(self._watchdog(), name="loop-watchdog"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def run_once(self) -> bool:
        """Run every loop body once, in order; True when all succeeded (``controller --once``)."""
        ok = True
        for spec in self._loops:
            ok = await self._iteration(spec, self.states[spec.name]) and ok
        self._judge()
        await self._publish(list(self.states.values()))
        return ok

    async def _run_loop(self, spec: LoopSpec) -> None:
        state = self.states[spec.name]
        failures = 0
        while True:
            started = time.monotonic()
            if await self._iteration(spec, state):
                failures = 0
                delay = spec.interval_s - (time.monotonic() - started)
            else:
                failures += 1
                state.restarts += 1
                ceiling = min(spec.backoff_max_s, self._backoff_max_s or spec.backoff_max_s)
                delay = backoff_s(failures, self._backoff_base_s, ceiling, random.random())
            await self._publish([state])
            if delay > 0:
                await asyncio.sleep(delay)

    async def _iteration(self, spec: LoopSpec, state: LoopState) -> bool:
        state.last_run_at = time.time()
        body = asyncio.ensure_future(spec.body())
        try:
            await asyncio.shield(body)
        except asyncio.CancelledError:
            await self._drain(spec, body)
            raise
        except Exception as exc:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise asyncio.CancelledError from exc
            self._report(spec.name, exc)
            state.last_error = mask_text(f"{type(exc).__name__}: {exc}")[:500]
            state.last_error_at = time.time()
            return False
        self._outages.recovered(spec.name)
        if self._repeated.pop(spec.name, None) is not None:
            log.warning("controller loop %s runs again", spec.name)
        state.last_ok_at = time.time()
        state.healthy = True
        return True

    def _report(self, name: str, exc: Exception) -> None:
        """An outage is logged by the outage log; a bug once with its traceback, then quietly."""
        if self._outages.failed(name, exc) is not None:
            return
        signature = f"{type(exc).__name__}: {exc}"[:200]
        if self._repeated.get(name) == signature:
            log.debug("controller loop %s failed again: %s", name, signature)
            return
        self._repeated[name] = signature
        log.error("controller loop %s failed; retrying with backoff", name, exc_info=exc)

    async def _drain(self, spec: LoopSpec, body: asyncio.Future[object]) -> None:
        """On stop, let the running iteration finish its transaction (bounded) instead of tearing it apart."""
        if not body.done():
            await asyncio.wait([body], timeout=self._drain_s)
        if not body.done():
            log.warning("controller loop %s did not finish within %.0f s of stopping", spec.name, self._drain_s)
            body.cancel()
        elif not body.cancelled() and body.exception() is not None:
            log.warning("controller loop %s failed while stopping: %s", spec.name, body.exception())

    def _judge(self) -> list[LoopState]:
        changed = []
        now = time.time()
        for state in self.states.values():
            healthy = not is_stalled(state, now)
            if healthy != state.healthy:
                state.healthy = healthy
                changed.append(state)
                if not healthy and not self._outages.in_outage(state.name):  # an outage is logged once
                    log.error("controller loop %s is unhealthy (no successful run in %.0f s)",
                              state.name, now - (state.last_ok_at or state.started_at))
        return changed

    async def _watchdog(self) -> None:
        period = max(0.05, min(1.0, *(s.interval_s / 2 for s in self._loops))) if self._loops else 1.0
        while True:
            await asyncio.sleep(period)
            self._judge()
            await self._publish(list(self.states.values()))

    async def _publish(self, states: list[LoopState]) -> None:
        with contextlib.suppress(RedisError, OSError):
            await write_loop_states(self._redis, states)

    @property
    def healthy(self) -> bool:
        return all(state.healthy for state in self.states.values())
