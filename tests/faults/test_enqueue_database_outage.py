"""A database outage during enqueue: ServiceUnavailable naming PostgreSQL (one clear line for the CLI,
503 for the API), nothing pushed to Redis, and enqueue works again once the database answers, with
no restart (the pool replaces the connections the outage broke)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis as redis_sync

from core.errors import ServiceUnavailable
from core.outage import DATABASE
from core.queues.catalog import NOOP
from core.queues.keys import queue_key
from core.resources import open_resources
from core.settings import Settings
from tests.faults.services import TcpProxy

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def proxy(pg_url: str) -> Iterator[TcpProxy]:
    tunnel = TcpProxy(urlsplit(pg_url).port or 5432, urlsplit(pg_url).hostname or "127.0.0.1")
    tunnel.restore()
    try:
        yield tunnel
    finally:
        tunnel.close()


async def test_enqueue_during_a_database_outage_says_postgresql_and_recovers(
        settings: Settings, proxy: TcpProxy, redis_url: str) -> None:
    parts = urlsplit(settings.database_url)
    via_proxy = dataclasses.replace(settings, database_url=parts._replace(
        netloc=parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{proxy.port}").geturl())
    rsync = redis_sync.Redis.from_url(redis_url)
    async with open_resources(via_proxy) as res:
        assert await res.enqueuer.enqueue(NOOP, {"n": 1}) is not None
        proxy.cut()
        for _ in range(2):  # the connection the outage broke, then no connection at all
            with pytest.raises(ServiceUnavailable, match="PostgreSQL unavailable") as caught:
                await res.enqueuer.enqueue(NOOP, {"n": 2})
            assert caught.value.dependency == DATABASE
        assert rsync.zcard(queue_key(NOOP.queue)) == 1, "no job reached Redis without its ledger row"
        proxy.restore()
        deadline = time.monotonic() + 60
        while True:
            try:
                job = await res.enqueuer.enqueue(NOOP, {"n": 3})
                break
            except ServiceUnavailable:
                if time.monotonic() > deadline:
                    raise
        assert job is not None
    assert rsync.zcard(queue_key(NOOP.queue)) == 2
