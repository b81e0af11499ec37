"""CpiClient against the simulator over real HTTP: paging, filters, details, content, auth and tokens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from core.cpi import CpiAuthError, CpiClient, CpiNotFound, MessageLog, RetryPolicy
from core.db.models.tenants import Tenant
from core.secrets import SecretBox
from core.settings import Settings
from simulator.server import SimulatorServer, TenantEndpoint
from tests.integration.cpi_client.sim_admin import expire_tokens, set_token_ttl, sim_stats

FAST = RetryPolicy(max_attempts=4, backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=5.0)


def client_for(t: TenantEndpoint, **kwargs: object) -> CpiClient:
    kwargs.setdefault("policy", FAST)
    return CpiClient(t.api_url, t.token_url, t.client_id, t.client_secret, **kwargs)  # type: ignore[arg-type]


def now() -> datetime:
    return datetime.now(UTC)


async def test_iter_message_logs_pages_past_1000_and_matches_count(t1: TenantEndpoint) -> None:
    until = now() - timedelta(seconds=2)
    since = until - timedelta(days=3)
    async with client_for(t1) as cpi:
        expected = await cpi.count_message_logs(since, until)
        pages = [page async for page in cpi.iter_message_logs(since, until, inline_count=True)]
    logs = [log for page in pages for log in page]
    assert expected > 2000
    assert len(logs) == expected == pages[0].total_count
    assert [len(p) for p in pages[:-1]] == [1000] * (len(pages) - 1)
    assert len({log.message_guid for log in logs}) == expected
    ends = [log.log_end for log in logs]
    assert ends == sorted(ends)  # type: ignore[type-var]
    assert all(e is not None and since < e <= until for e in ends)
    assert isinstance(logs[0], MessageLog)
    assert logs[0].log_end is not None
    assert logs[0].log_end.tzinfo is UTC


async def test_window_boundaries_split_without_loss_or_overlap(t1: TenantEndpoint) -> None:
    """Adjacent windows (since exclusive, until inclusive) together give exactly the whole range."""
    until = now() - timedelta(seconds=2)
    since = until - timedelta(days=1)
    async with client_for(t1) as cpi:
        whole = [log.message_guid async for page in cpi.iter_message_logs(since, until) for log in page]
        cut = since + timedelta(hours=7, milliseconds=123)
        parts = [log.message_guid async for page in cpi.iter_message_logs(since, cut) for log in page]
        parts += [log.message_guid async for page in cpi.iter_message_logs(cut, until) for log in page]
    assert parts == whole


async def test_status_and_iflow_filters_and_small_pages(t1: TenantEndpoint) -> None:
    until = now() - timedelta(seconds=2)
    since = until - timedelta(days=3)
    async with client_for(t1) as cpi:
        failed = [log async for page in cpi.iter_message_logs(since, until, status="FAILED") for log in page]
        assert failed
        assert {log.status for log in failed} == {"FAILED"}
        assert len(failed) == await cpi.count_message_logs(since, until, status="FAILED")
        either = await cpi.count_message_logs(since, until, status=["FAILED", "RETRY"])
        retry = await cpi.count_message_logs(since, until, status="RETRY")
        assert either == len(failed) + retry
        flow = failed[0].iflow_id
        assert flow is not None
        pages = [p async for p in cpi.iter_message_logs(since, until, status="FAILED", iflow_id=flow, page_size=7)]
    small = [log for page in pages for log in page]
    assert [log.message_guid for log in small] == [log.message_guid for log in failed if log.iflow_id == flow]
    assert all(len(p) <= 7 for p in pages)


async def test_details_of_a_failed_message(t1: TenantEndpoint) -> None:
    async with client_for(t1) as cpi:
        page = await anext(aiter(cpi.iter_message_logs(None, now(), status="FAILED")))
        failed = page.logs[0]
        text = await cpi.error_text(failed.message_guid)
        assert text
        assert failed.message_guid in text
        attributes = await cpi.adapter_attributes(failed.message_guid)
        assert {a.name for a in attributes} >= {"ResponseCode"}
        attachments = await cpi.attachments(failed.message_guid)
        assert attachments
        assert attachments[0].payload_size is not None
        body = await cpi.attachment_body(attachments[0].id)
        assert len(body) == attachments[0].payload_size
        headers = await cpi.custom_headers(failed.message_guid)
        assert all(h.name and h.value for h in headers)
        assert await cpi.message_log(failed.message_guid) == failed
        related = await cpi.message_logs_by_correlation_id(failed.correlation_id or "")
        assert failed.message_guid in {log.message_guid for log in related}
        completed = (await anext(aiter(cpi.iter_message_logs(None, now(), status="COMPLETED")))).logs[0]
        assert await cpi.error_text(completed.message_guid) is None
        with pytest.raises(CpiNotFound, match="does not exist"):
            await cpi.error_text("AGnoSuchMessage")


async def test_message_store_entries_and_payload(t1: TenantEndpoint) -> None:
    async with client_for(t1) as cpi:
        page = await anext(aiter(cpi.iter_message_logs(None, now())))
        for log in page.logs:
            entries = await cpi.message_store_entries(log.message_guid)
            if entries:
                break
        assert entries
        assert entries[0].message_store_id == "Persist1"
        assert entries[0].timestamp is not None
        payload = await cpi.message_store_payload(entries[0].id)
    assert payload.startswith(b"<?xml")


async def test_packages_artifacts_download_and_runtime(sim: SimulatorServer, t1: TenantEndpoint) -> None:
    async with client_for(t1) as cpi:
        packages = await cpi.packages()
        assert packages
        assert all(p.creation_date is not None for p in packages)
        flows = await cpi.package_artifacts(packages[0].id)
        zipped = await cpi.download_artifact(flows[0].id)
        assert zipped.startswith(b"PK")
        runtime = await cpi.runtime_artifacts()
        assert {r.id for r in runtime} >= {f.id for f in flows}
        broken = next(r for r in runtime if r.status == "ERROR")
        assert "failed" in await cpi.runtime_artifact_error(broken.id)
        with pytest.raises(CpiNotFound):
            await cpi.package_artifacts("NoSuchPackage")


async def test_token_is_cached_and_refreshed_once_after_401(sim: SimulatorServer, t1: TenantEndpoint) -> None:
    before = (await sim_stats(sim, "tenant1"))["token_requests"]
    async with client_for(t1) as cpi:
        for _ in range(5):
            await cpi.count_message_logs()
        assert (await sim_stats(sim, "tenant1"))["token_requests"] == before + 1
        await expire_tokens(sim, "tenant1")
        assert await cpi.count_message_logs() > 0  # 401 -> new token -> same call succeeds
        assert (await sim_stats(sim, "tenant1"))["token_requests"] == before + 2


async def test_concurrent_calls_after_expiry_fetch_one_new_token(sim: SimulatorServer, t1: TenantEndpoint) -> None:
    async with client_for(t1) as cpi:
        await cpi.count_message_logs()
        await expire_tokens(sim, "tenant1")
        before = (await sim_stats(sim, "tenant1"))["token_requests"]
        counts = await asyncio.gather(*(cpi.count_message_logs() for _ in range(10)))
        assert all(c > 0 for c in counts)
        assert (await sim_stats(sim, "tenant1"))["token_requests"] == before + 1


async def test_short_lived_tokens_are_renewed_before_expiry(sim: SimulatorServer, t1: TenantEndpoint) -> None:
    await set_token_ttl(sim, "tenant1", 1)
    try:
        async with client_for(t1) as cpi:
            before = (await sim_stats(sim, "tenant1"))["token_requests"]
            await cpi.count_message_logs()
            await asyncio.sleep(1.1)
            await cpi.count_message_logs()
            assert (await sim_stats(sim, "tenant1"))["token_requests"] == before + 2
    finally:
        await set_token_ttl(sim, "tenant1", 3600)


async def test_wrong_secret_gives_auth_error_without_leaking_it(
    t1: TenantEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-do-not-print-" + t1.client_secret[-6:]
    caplog.set_level(logging.DEBUG)
    async with CpiClient(t1.api_url, t1.token_url, t1.client_id, secret, policy=FAST) as cpi:
        with pytest.raises(CpiAuthError) as caught:
            await cpi.count_message_logs()
        assert secret not in repr(cpi)
    message = str(caught.value)
    assert t1.client_id in message
    assert "token endpoint" in message
    assert secret not in message
    assert secret not in repr(caught.value)
    assert secret not in caplog.text
    assert t1.client_secret not in caplog.text


async def test_basic_auth_and_for_tenant_with_encrypted_secret(t1: TenantEndpoint) -> None:
    box = SecretBox(Settings(secret_key=Fernet.generate_key().decode()))
    tenant = Tenant(
        name="sim-t1",
        api_url=t1.api_url,
        token_url=t1.token_url,
        auth_type="basic",
        client_id=t1.client_id,
        client_secret_encrypted=box.encrypt(t1.client_secret),
        rate_limit_per_s=50.0,
    )
    assert t1.client_secret not in tenant.client_secret_encrypted
    async with CpiClient.for_tenant(tenant, box, policy=FAST) as cpi:
        assert await cpi.count_message_logs() > 0
        assert max(cpi.limits.limits.values()) == 50.0


async def test_leaving_the_page_loop_early_stops_the_prefetch(t1: TenantEndpoint) -> None:
    cpi = client_for(t1)
    async with contextlib.aclosing(cpi.iter_message_logs(None, now())) as pages:
        async for page in pages:
            assert len(page) == 1000
            break
    assert not cpi._prefetches  # the next page's request was cancelled, not left running
    async for _ in cpi.iter_message_logs(None, now()):
        break  # without aclosing: the client's own close cancels the pending prefetch
    await cpi.aclose()
    assert not cpi._prefetches
