"""Helpers for worker-runtime tests: enqueue through the core, read the ledger and Redis synchronously."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_sync
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.ledger import WorkerJobAttempt, WorkerJobRun
from core.queues.catalog import function
from core.queues.enqueue import EnqueueRequest
from core.resources import open_resources
from core.settings import Settings
from tests.ports import free_port
from tests.processes import wait_until


def enqueue(
    settings: Settings, name: str, kwargs: dict[str, Any] | None = None, count: int = 1, **options: Any
) -> list[str]:
    """Enqueue ``count`` jobs of a catalogued function the way every producer does."""

    async def run() -> list[str]:
        async with open_resources(settings) as res:
            ids: list[str] = []
            for start in range(0, count, 1000):
                batch = [
                    EnqueueRequest(function(name), dict(kwargs or {}), **options)
                    for _ in range(min(1000, count - start))
                ]
                ids += await res.enqueuer.enqueue_many(batch)
            return ids

    return asyncio.run(run())


def runs(db: sessionmaker[Session], **where: Any) -> list[WorkerJobRun]:
    with db() as session:
        query = select(WorkerJobRun).order_by(WorkerJobRun.id)
        for key, value in where.items():
            query = query.where(getattr(WorkerJobRun, key) == value)
        return list(session.execute(query).scalars())


def attempts(db: sessionmaker[Session], job_id: str) -> list[WorkerJobAttempt]:
    with db() as session:
        query = select(WorkerJobAttempt).where(WorkerJobAttempt.arq_job_id == job_id).order_by(WorkerJobAttempt.id)
        return list(session.execute(query).scalars())


@pytest.fixture
def rsync(redis_url: str) -> redis_sync.Redis:
    return redis_sync.Redis.from_url(redis_url)


# ---- throw-away servers for fault tests (never the shared Redis / PostgreSQL) ----

class ThrowawayRedis:
    """A private ``redis-server`` on a free port; ``stop`` (SIGTERM, the AOF is kept) and ``start`` again
    restart it with its data, as a container restart of a persistent Redis would."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no"],
            stdout=(self.folder / "redis.log").open("ab"), stderr=subprocess.STDOUT)
        client = redis_sync.Redis.from_url(self.url)
        try:
            wait_until(lambda: _answers(client), timeout=10, what=f"redis-server on port {self.port}")
        finally:
            client.close()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(10)
        self._proc = None

    def client(self) -> redis_sync.Redis:
        return redis_sync.Redis.from_url(self.url)


def _answers(client: redis_sync.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis_sync.RedisError:
        return False


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


class ThrowawayPostgres:
    """A private PostgreSQL cluster (initdb / pg_ctl as user postgres) on a free port."""

    def __init__(self, folder: Path) -> None:
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.port = free_port()
        self.folder = folder
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=60)

    def create(self) -> None:
        self.folder.mkdir(parents=True)
        shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.folder / "data"), "-A", "trust",
                          "-U", "postgres", "--no-sync")
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-o", options,
                          "-l", str(self.folder / "pg.log"), "-w", "start")

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[ThrowawayPostgres]:
    """One migrated throw-away cluster per test session (initdb costs a second or two)."""
    from core.db.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="integramon-pg-"))
    os.chmod(folder, 0o755)
    server = ThrowawayPostgres(folder / "cluster")
    server.create()
    try:
        upgrade(server.url)
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
