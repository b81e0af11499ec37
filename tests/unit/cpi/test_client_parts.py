"""Pieces of the client that need no server: filter building, Retry-After, backoff, rate limits, tokens."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from core.cpi.auth import AccessToken, TokenCache
from core.cpi.client import CpiClient, message_log_filter
from core.cpi.errors import CpiError, CpiMalformedResponse, CpiNotFound, CpiRateLimited, CpiServerError, CpiTimeout
from core.cpi.ratelimit import EndpointFamily, TenantRateLimits, TokenBucket, family_for_path
from core.cpi.transport import Credentials, RetryPolicy, parse_retry_after
from core.errors import IntegraMonError

SINCE = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_filter_for_a_window_with_statuses_and_flow() -> None:
    expression = message_log_filter(SINCE, SINCE + timedelta(minutes=5), ["FAILED", "ESCALATED"], "O'Flow")
    assert expression == (
        "LogEnd gt datetime'2024-05-01T10:00:00.000' and LogEnd le datetime'2024-05-01T10:05:00.000'"
        " and (Status eq 'FAILED' or Status eq 'ESCALATED') and IntegrationArtifact/Id eq 'O''Flow'"
    )
    assert message_log_filter(SINCE, None, "FAILED", since_inclusive=True) == (
        "LogEnd ge datetime'2024-05-01T10:00:00.000' and Status eq 'FAILED'"
    )
    assert message_log_filter(None, None) == ""


def test_retry_after_as_seconds_or_http_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    seconds = parse_retry_after(later)
    assert seconds is not None
    assert 25 <= seconds <= 30


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(backoff_base_s=1.0, backoff_max_s=8.0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [policy.backoff(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)


def test_error_tree_marks_what_a_retry_can_fix() -> None:
    assert all(issubclass(e, CpiError) and issubclass(e, IntegraMonError) for e in (CpiNotFound, CpiTimeout))
    assert [e.transient for e in (CpiRateLimited, CpiServerError, CpiTimeout, CpiMalformedResponse)] == [True] * 4
    assert not CpiNotFound("x").transient
    assert CpiRateLimited("x", retry_after_s=4).retry_after_s == 4


def test_credentials_and_tokens_never_show_secrets() -> None:
    creds = Credentials("https://t/oauth/token", "client", "top-secret")
    token = AccessToken.from_reply("bearer-value", 3600)
    assert "top-secret" not in repr(creds)
    assert "bearer-value" not in repr(token)


def test_token_cache_expiry_and_discard_only_of_the_rejected_token() -> None:
    cache = TokenCache()
    cache.put("u", "c", AccessToken.from_reply("one", 3600))
    assert cache.get("u", "c") is not None
    cache.discard("u", "c", "other")
    assert cache.get("u", "c") is not None
    cache.discard("u", "c", "one")
    assert cache.get("u", "c") is None
    cache.put("u", "c", AccessToken.from_reply("short", 0.001))
    time.sleep(0.01)
    assert cache.get("u", "c") is None


def test_sap_limits_per_family_lowered_by_the_tenant_cap() -> None:
    assert TenantRateLimits().limits == {
        EndpointFamily.MONITORING: 1000.0,
        EndpointFamily.RUNTIME: 120.0,
        EndpointFamily.DESIGNTIME: 20.0,
    }
    assert TenantRateLimits(50).limits[EndpointFamily.MONITORING] == 50
    assert TenantRateLimits(50).limits[EndpointFamily.DESIGNTIME] == 20
    assert (
        family_for_path("IntegrationDesigntimeArtifacts(Id='x',Version='active')/$value") is EndpointFamily.DESIGNTIME
    )
    assert family_for_path("IntegrationRuntimeArtifacts") is EndpointFamily.RUNTIME
    assert family_for_path("MessageStoreEntries('x')/$value") is EndpointFamily.MONITORING


async def test_token_bucket_holds_callers_to_the_rate() -> None:
    bucket = TokenBucket(rate_per_s=50, burst=5)
    started = time.monotonic()
    await asyncio.gather(*(bucket.acquire() for _ in range(30)))
    assert time.monotonic() - started >= (30 - 5) / 50 * 0.9  # burst of 5, then 50/s


async def test_pause_holds_every_caller_back() -> None:
    bucket = TokenBucket(rate_per_s=1000)
    await bucket.pause(0.2)
    started = time.monotonic()
    await bucket.acquire()
    assert time.monotonic() - started >= 0.19


def test_bucket_refuses_a_zero_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0)


def test_next_links_may_be_absolute_or_relative_to_the_service_root() -> None:
    cpi = CpiClient("https://t.example/api/v1/", None, "c", "s")
    relative = cpi._absolute("MessageProcessingLogs?$skiptoken=5")
    assert relative == "https://t.example/api/v1/MessageProcessingLogs?$skiptoken=5"
    assert cpi._absolute("https://other/api/v1/X?$skiptoken=5") == "https://other/api/v1/X?$skiptoken=5"
