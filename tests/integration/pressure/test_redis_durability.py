"""Redis durability warnings against throw-away ``redis-server`` instances configured each way."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from redis.asyncio import Redis

from core.pressure.redis_info import redis_durability
from tests.ports import free_port


@contextmanager
def redis_server(folder: Path, *options: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                             *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "throw-away redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


async def durability_of(url: str) -> list[str]:
    client = Redis.from_url(url)
    try:
        return (await redis_durability(client)).warnings
    finally:
        await client.aclose()


async def test_no_persistence_and_an_evicting_policy_are_both_flagged(tmp_path: Path) -> None:
    with redis_server(tmp_path, "--save", "", "--appendonly", "no", "--maxmemory-policy", "allkeys-lru") as url:
        warnings = await durability_of(url)
    assert len(warnings) == 2
    assert warnings[0].startswith("Redis keeps nothing on disk")
    assert "'allkeys-lru'" in warnings[1]


async def test_aof_with_noeviction_is_fine(tmp_path: Path) -> None:
    with redis_server(tmp_path, "--save", "", "--appendonly", "yes", "--maxmemory-policy", "noeviction") as url:
        assert await durability_of(url) == []


async def test_rdb_snapshots_alone_count_as_persistence(tmp_path: Path) -> None:
    with redis_server(tmp_path, "--save", "60 1", "--appendonly", "no") as url:
        assert await durability_of(url) == []


async def test_a_managed_redis_that_refuses_config_is_judged_from_info(tmp_path: Path) -> None:
    with redis_server(tmp_path, "--save", "", "--appendonly", "no", "--rename-command", "CONFIG", "") as url:
        client = Redis.from_url(url)
        try:
            result = await redis_durability(client)
        finally:
            await client.aclose()
    assert result.rdb_snapshots is None  # unknown: the snapshot setting needs CONFIG
    assert result.eviction_policy == "noeviction"
    assert result.warnings == []


async def test_dev_modes_embedded_redis_snapshots_every_minute(tmp_path: Path) -> None:
    """It used to pass ``--save "60 1"`` as one word, which Redis ignored: no snapshots at all."""
    from integramon.embedded_redis import EmbeddedRedis

    embedded = EmbeddedRedis(tmp_path)
    embedded.start()
    try:
        client = Redis.from_url(embedded.url)
        try:
            assert (await client.config_get("save"))["save"] == "60 1"
            assert (await redis_durability(client)).warnings == []
        finally:
            await client.aclose()
    finally:
        embedded.stop()
