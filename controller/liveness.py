"""The controller's liveness record: a small file its lease loop stamps, read by ``controller --live``.

Liveness (the container health check) asks only: does this process still turn its lease loop, and
does it reach Redis? A file in the data folder answers without a network call; the per-loop health
(outbox, sampler, dispatch…) is readiness, reported by ``--status`` and ``/health/ready`` and watched
by an alarm, so a RabbitMQ or CloudWatch outage never gets a healthy controller replaced.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings

__all__ = ["LOOP_STALE_S", "REDIS_GRACE_S", "LivenessFile", "Verdict", "judge", "liveness_path"]

LOOP_STALE_S = 30.0  # the lease loop stamps at least every third of a lease (5 s by default)
REDIS_GRACE_S = 120.0  # Redis unreachable this long: a restart of the container may help


def liveness_path(settings: Settings) -> Path:
    return settings.data_dir / "controller.live"


class LivenessFile:
    """Written by the running controller (at most once a second, atomically)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._last_write = 0.0
        self._started_at = time.time()
        self._redis_ok_at: float | None = None

    def stamp(self, *, redis_ok: bool) -> None:
        now = time.time()
        if redis_ok:
            self._redis_ok_at = now
        if now - self._last_write < 1.0:
            return
        self._last_write = now
        record = {"pid": os.getpid(), "at": now, "started_at": self._started_at, "redis_ok_at": self._redis_ok_at}
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_suffix(".tmp")
            tmp.write_text(json.dumps(record))
            tmp.replace(self._path)
        except OSError:
            pass  # an unwritable data folder shows as "not live", which is what it is

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self._path.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Verdict:
    live: bool
    detail: str


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def judge(path: Path, now: float | None = None) -> Verdict:
    """Whether the controller that writes ``path`` is live, and why not."""
    now = time.time() if now is None else now
    try:
        record = json.loads(path.read_text())
        pid, at, redis_ok_at = int(record["pid"]), float(record["at"]), record.get("redis_ok_at")
        reference = float(redis_ok_at if redis_ok_at is not None else record.get("started_at", at))
    except (OSError, ValueError, KeyError, TypeError):
        return Verdict(False, f"no liveness record at {path} (controller not running or not started yet)")
    if not _pid_alive(pid):
        return Verdict(False, f"controller process {pid} is gone")
    if now - at > LOOP_STALE_S:
        return Verdict(False, f"controller lease loop has not turned for {now - at:.0f} s")
    if now - reference > REDIS_GRACE_S:
        return Verdict(False, f"controller {pid} has not reached Redis for {now - reference:.0f} s")
    if redis_ok_at is None:
        return Verdict(True, f"controller {pid} live, waiting for Redis and PostgreSQL since {now - reference:.0f} s")
    return Verdict(True, f"controller {pid} live (lease loop {now - at:.1f} s ago, Redis {now - reference:.1f} s ago)")
