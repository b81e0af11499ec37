"""ECS task scale-in protection: on while this worker holds jobs, off again once it has been idle.

Target tracking scales a worker service in by stopping *some* task; without protection that may be
one in the middle of a 10-minute CPI call. A task that sets protection through the ECS agent
(``PUT $ECS_AGENT_URI/task-protection/v1/state``) is skipped by scale-in, so the worker turns it on
at its first running job and off only after ``idle_s`` without jobs (debounced: a worker that takes
a new job every few seconds does not flip it on every job). Protection expires by itself after
``expires_minutes`` and is renewed at half that while busy, so a crashed worker never stays protected.
Off ECS (no ``ECS_AGENT_URI``) nothing runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

__all__ = ["ProtectionError", "ScaleInProtection", "scale_in_protection"]

log = logging.getLogger(__name__)

STATE_PATH = "/task-protection/v1/state"


class ProtectionError(Exception):
    """The agent refused or could not be reached (retried with backoff, logged once per outage)."""


class ScaleInProtection:
    """Follows busy/idle reports of one or more workers (``listener()``) and keeps the task's
    protection in step; ``run`` is the one long-lived task that talks to the agent."""

    def __init__(self, agent_uri: str, *, expires_minutes: int = 60, idle_s: float = 30.0,
                 retry_max_s: float = 30.0, client: httpx.AsyncClient | None = None) -> None:
        self._url = agent_uri.rstrip("/") + STATE_PATH
        self._expires_minutes = expires_minutes
        self._idle_s = idle_s
        self._retry_max_s = retry_max_s
        self._client = client or httpx.AsyncClient(timeout=5.0)
        self._busy: set[int] = set()
        self._sources = itertools.count()
        self._changed = asyncio.Event()
        self._protected = False
        self._renew_at = 0.0
        self._failing = False

    @property
    def protected(self) -> bool:
        return self._protected

    def listener(self) -> Callable[[bool], None]:
        """A callback for one worker: call it with True when its first job starts, False when its last ends."""
        source = next(self._sources)

        def report(busy: bool) -> None:
            if busy:
                self._busy.add(source)
            else:
                self._busy.discard(source)
            self._changed.set()

        return report

    async def run(self) -> None:
        """Reconcile the wanted state with the agent until cancelled."""
        backoff = 1.0
        while True:
            self._changed.clear()
            try:
                await self._reconcile()
            except Exception as exc:  # ProtectionError, or anything unexpected: this loop must not die
                if not self._failing:
                    log.error("ECS task scale-in protection cannot be set (retrying with backoff): %s", exc)
                    self._failing = True
                await self._wait(backoff)
                backoff = min(backoff * 2, self._retry_max_s)
                continue
            if self._failing:
                log.info("ECS task scale-in protection works again")
                self._failing = False
            backoff = 1.0
            await self._wait(max(0.0, self._renew_at - time.monotonic()) if self._protected else None)

    async def _reconcile(self) -> None:
        if self._busy:
            if not self._protected or time.monotonic() >= self._renew_at:
                await self._put(True)
                self._protected = True
                self._renew_at = time.monotonic() + self._expires_minutes * 30.0  # half the expiry
            return
        if self._protected:
            deadline = time.monotonic() + self._idle_s  # debounce: a job within idle_s keeps it on
            while not self._busy and (left := deadline - time.monotonic()) > 0:
                self._changed.clear()
                await self._wait(left)
            if not self._busy:
                await self._put(False)
                self._protected = False

    async def _wait(self, seconds: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)

    async def _put(self, enabled: bool) -> None:
        body: dict[str, Any] = {"ProtectionEnabled": enabled}
        if enabled:
            body["ExpiresInMinutes"] = self._expires_minutes
        try:
            response = await self._client.put(self._url, json=body)
            payload = response.json() if response.content else {}
        except (httpx.HTTPError, ValueError) as exc:
            raise ProtectionError(f"{self._url}: {exc}") from exc
        if response.status_code >= 300 or "failure" in payload or "error" in payload:
            reason = payload.get("failure") or payload.get("error") or response.text[:200]
            raise ProtectionError(f"{self._url} answered {response.status_code}: {reason}")
        log.info("ECS task scale-in protection %s", "on" if enabled else "off")

    async def aclose(self) -> None:
        """Clear protection (best effort) and close the HTTP client."""
        if self._protected:
            with contextlib.suppress(ProtectionError):
                await self._put(False)
            self._protected = False
        await self._client.aclose()


@contextlib.asynccontextmanager
async def scale_in_protection(agent_uri: str | None, *, expires_minutes: int = 60,
                              idle_s: float = 30.0) -> AsyncIterator[ScaleInProtection | None]:
    """A running :class:`ScaleInProtection` on ECS (``agent_uri`` = ``$ECS_AGENT_URI``), ``None`` elsewhere."""
    if not agent_uri:
        yield None
        return
    protection = ScaleInProtection(agent_uri, expires_minutes=expires_minutes, idle_s=idle_s)
    task = asyncio.create_task(protection.run(), name="scale-in-protection")
    try:
        yield protection
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await protection.aclose()
