"""Shared set-up for benchmarks: a scratch PostgreSQL database and Redis db, migrated and empty."""

from __future__ import annotations

import compileall
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import redis

from core.db.migrate import upgrade
from core.settings import Settings, settings_to_env

__all__ = ["bench_settings", "child_env", "compile_checkout", "median", "percentile", "private_redis_server",
           "reset_redis"]

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
CHECKOUT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "functions", "controller", "admin_api", "simulator", "integramon", "bench")


def compile_checkout() -> None:
    """Write the checkout's .pyc files (only stale ones), as the image build does: a spawned process
    then measures start-up as deployed, not Python compiling our sources because the shell set
    PYTHONDONTWRITEBYTECODE (the dependencies are compiled by ``make install``)."""
    for package in PACKAGES:
        compileall.compile_dir(CHECKOUT / package, quiet=1)


def bench_settings(name: str, redis_db: int, data_dir: Path, redis_url: str | None = None) -> Settings:
    """Settings on a fresh, migrated database ``integramon_bench_<name>`` and Redis db ``redis_db``
    (and the checkout's bytecode compiled, see :func:`compile_checkout`)."""
    compile_checkout()
    db = f"integramon_bench_{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{db}" with (force)')
        conn.execute(f'create database "{db}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
    upgrade(url)
    settings = Settings(data_dir=data_dir, database_url=url, redis_url=redis_url or f"redis://127.0.0.1:6379/{redis_db}",
                        log_level="WARNING")
    reset_redis(settings)
    return settings


def reset_redis(settings: Settings) -> None:
    client = redis.Redis.from_url(settings.redis_url)
    client.flushdb()
    client.close()


def child_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEGRAMON_")}
    env.update(settings_to_env(settings))
    return env


def integramon_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "integramon", *args]


def run_checked(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


@contextlib.contextmanager
def private_redis_server(folder: Path) -> Iterator[str]:
    """A throw-away ``redis-server`` on a free port (no persistence), so a benchmark neither flushes nor
    competes with anybody's data on the shared Redis; yields its URL and stops it afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(200):
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    break
            time.sleep(0.025)
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)
