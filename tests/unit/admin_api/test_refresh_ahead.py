"""The token cache and the ledger page cache: one shared lookup per key, refreshed ahead of expiry.

Both caches used to let every concurrent caller of an expired entry wait for the lookup together
(bench.api's tail, docs/api.md). A fake clock drives the ages; nothing here depends on timing.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from admin_api import context
from admin_api.context import Principal, TokenCache
from admin_api.jobs import pg_pages
from admin_api.jobs.pg_pages import FRESH_S, PgLedgerPages
from admin_api.jobs.schemas import RunFilter

ALICE = Principal("alice", "viewer")
BOB = Principal("bob", "admin")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SlowLookup:
    """Answers with the queued values; each call waits until released, counting the calls."""

    def __init__(self, *values: Any) -> None:
        self.values = list(values)
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self, *_: Any) -> Any:
        self.calls += 1
        value = self.values.pop(0)
        await self.release.wait()
        return value


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    clock_module = SimpleNamespace(monotonic=fake)  # only these modules' clock: the event loop keeps its own
    monkeypatch.setattr(context, "time", clock_module)
    monkeypatch.setattr(pg_pages, "time", clock_module)
    return fake


async def test_concurrent_token_misses_share_one_lookup(clock: Clock) -> None:
    cache, fetch = TokenCache(ttl_s=5.0), SlowLookup(ALICE)
    waiting = [asyncio.ensure_future(cache.lookup("h", fetch)) for _ in range(16)]
    await asyncio.sleep(0)
    fetch.release.set()
    assert await asyncio.gather(*waiting) == [ALICE] * 16
    assert fetch.calls == 1


async def test_token_past_half_life_is_served_while_it_refreshes(clock: Clock) -> None:
    cache, fetch = TokenCache(ttl_s=5.0), SlowLookup(ALICE, BOB)
    fetch.release.set()
    assert await cache.lookup("h", fetch) == ALICE
    clock.now += 3.0  # past half of the 5 s: the next caller starts a refresh but does not wait for it
    fetch.release.clear()
    assert await cache.lookup("h", fetch) == ALICE
    assert await cache.lookup("h", fetch) == ALICE
    await asyncio.sleep(0)
    assert fetch.calls == 2  # one refresh, shared
    fetch.release.set()
    await asyncio.sleep(0.001)
    assert await cache.lookup("h", fetch) == BOB


async def test_token_expired_entry_is_never_served(clock: Clock) -> None:
    cache, fetch = TokenCache(ttl_s=5.0), SlowLookup(ALICE, None)
    fetch.release.set()
    assert await cache.lookup("h", fetch) == ALICE
    clock.now += 5.5  # a revoked token stops within ttl_s: past it the caller waits for the database
    assert await cache.lookup("h", fetch) is None


async def test_token_lookup_started_before_clear_is_not_cached(clock: Clock) -> None:
    cache, fetch = TokenCache(ttl_s=5.0), SlowLookup(ALICE, None)
    first = asyncio.ensure_future(cache.lookup("h", fetch))
    await asyncio.sleep(0)
    cache.clear()  # a revocation while the lookup is under way
    fetch.release.set()
    assert await first == ALICE
    assert await cache.lookup("h", fetch) is None
    assert fetch.calls == 2


def _pages(query: SlowLookup) -> PgLedgerPages:
    pages = PgLedgerPages("postgresql://unused")  # the pool is never opened: the query is replaced
    pages._query = query  # type: ignore[method-assign, assignment]  # a stand-in: takes no keywords
    return pages


async def test_concurrent_page_misses_share_one_query(clock: Clock) -> None:
    query = SlowLookup(b"p1")
    pages = _pages(query)
    waiting = [asyncio.ensure_future(pages.page(RunFilter(limit=50))) for _ in range(16)]
    await asyncio.sleep(0)
    query.release.set()
    assert await asyncio.gather(*waiting) == [b"p1"] * 16
    assert query.calls == 1


async def test_page_past_half_life_is_served_while_it_refreshes(clock: Clock) -> None:
    query = SlowLookup(b"p1", b"p2")
    pages = _pages(query)
    query.release.set()
    assert await pages.page(RunFilter(limit=50)) == b"p1"
    clock.now += FRESH_S * 0.6
    query.release.clear()
    assert await pages.page(RunFilter(limit=50)) == b"p1"  # no wait for the refresh it started
    assert await pages.page(RunFilter(limit=50)) == b"p1"
    await asyncio.sleep(0)
    assert query.calls == 2
    query.release.set()
    await asyncio.sleep(0.001)
    assert await pages.page(RunFilter(limit=50)) == b"p2"


async def test_page_queried_before_a_change_is_not_reused(clock: Clock) -> None:
    query = SlowLookup(b"before", b"after")
    pages = _pages(query)
    first = asyncio.ensure_future(pages.page(RunFilter(limit=50)))
    await asyncio.sleep(0)
    pages.forget()  # a change made through the API while the query runs
    query.release.set()
    assert await first == b"before"
    assert await pages.page(RunFilter(limit=50)) == b"after"
