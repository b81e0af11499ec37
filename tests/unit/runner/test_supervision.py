"""The one supervision policy of worker helpers: restart on transient errors, escalate on repeated bugs."""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from functions.runner.supervision import DATABASE, REDIS, Outages, Supervisor, transient_dependency


def test_errors_are_classified_by_the_dependency_they_show_down() -> None:
    assert transient_dependency(RedisConnectionError("gone")) == REDIS
    assert transient_dependency(OperationalError("select 1", {}, Exception("refused"))) == DATABASE
    assert transient_dependency(ValueError("a bug")) is None


async def test_a_helper_is_restarted_through_a_long_outage_with_one_log_line_each_way(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outages = Outages("w1")
    fatal: list[str] = []
    supervisor = Supervisor(outages, lambda name, exc: fatal.append(name), backoff_min_s=0.001, backoff_max_s=0.005)
    calls = 0

    async def helper() -> None:
        nonlocal calls
        calls += 1
        if calls <= 30:
            raise RedisConnectionError("connection refused")
        outages.recovered(REDIS)

    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(supervisor.spawn("claim-loop", helper), 5)
    assert calls == 31
    assert fatal == []
    messages = [r.getMessage() for r in caplog.records]
    assert sum("Redis unavailable" in m for m in messages) == 1
    assert sum("Redis is back" in m for m in messages) == 1
    assert outages.down == []


async def test_repeated_unexpected_failures_escalate_and_a_returning_helper_is_not_restarted() -> None:
    fatal: list[str] = []
    supervisor = Supervisor(Outages("w1"), lambda name, exc: fatal.append(name), backoff_min_s=0.001,
                            backoff_max_s=0.002, max_unexpected=3)
    bug_calls = 0

    async def buggy() -> None:
        nonlocal bug_calls
        bug_calls += 1
        raise KeyError("bug")

    done_calls = 0

    async def finishes() -> None:
        nonlocal done_calls
        done_calls += 1

    await asyncio.wait_for(asyncio.gather(supervisor.spawn("flusher", buggy), supervisor.spawn("tuning", finishes)), 5)
    assert bug_calls == 4
    assert fatal == ["flusher"]
    assert done_calls == 1
    assert sorted(supervisor.dead()) == ["flusher", "tuning"]
