"""Start real ``integramon`` processes from tests, with settings passed through the environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from core.settings import Settings, settings_to_env

__all__ = ["integramon", "process_env", "running", "wait_until"]


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The parent's environment minus other INTEGRAMON_* variables, plus ``settings`` and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEGRAMON_") or k.startswith("INTEGRAMON_TEST_")}
    env.update(settings_to_env(settings))
    env.update(extra)
    return env


def integramon(settings: Settings, *args: str, log: Path | None = None,
               **extra: str) -> subprocess.Popen[bytes]:
    """Start ``python -m integramon ARGS`` (stderr to ``log`` when given, so failures can be read)."""
    stream: IO[bytes] | int = subprocess.DEVNULL
    if log is not None:
        stream = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "integramon", *args], env=process_env(settings, **extra),
                            stdout=stream, stderr=stream)


@contextmanager
def running(settings: Settings, *args: str, log: Path | None = None, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """A process that is terminated (then killed) when the block ends, whatever happens in it."""
    proc = integramon(settings, *args, log=log, **extra)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def wait_until(check: Callable[[], object], timeout: float = 20.0, interval: float = 0.05, what: str = "") -> object:
    """Poll ``check`` until it returns something truthy; fail the test with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what or check}")
