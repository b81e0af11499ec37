"""The operator pages in headless Chromium: Tenants (add, edit, test connection against the CPI simulator,
disable), Schedules (pause, resume, run now), Alerts (acknowledge, samples with their error text), alert
rules, Settings (edit a key, a tenant override, a metric cadence), Controller (a real controller running)
and Chat (answered by the real ai worker, built-in answer). Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controller.app import Controller, LoopIntervals
from core.db.models.scheduling import ConfigExt
from core.db.models.tenants import Tenant
from core.db.models.tuning import MetricSettings
from core.resources import open_resources
from core.settings import Settings
from simulator.config import SimulatorConfig
from simulator.server import SimulatorServer, TenantEndpoint
from tests.e2e.console.conftest import shot
from tests.e2e.console.test_console import sign_in
from tests.integration.admin_api.conftest import run_ai_worker, seed_alert


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    config = SimulatorConfig(tenants=1, seed=9, rate=2.0, history_days=1, history_per_day=300,
                             start_ms=int(time.time() * 1000) - 60_000)
    with SimulatorServer(config) as server:
        yield server


@contextmanager
def running_controller(settings: Settings) -> Iterator[None]:
    """The real controller (lease + supervised loops) on its own thread and event loop."""
    started = threading.Event()
    handles: dict[str, Any] = {}

    async def main() -> None:
        handles["loop"], handles["stop"] = asyncio.get_running_loop(), asyncio.Event()
        started.set()
        async with open_resources(settings) as resources:
            await Controller(resources, controller_id="controller@e2e").run(handles["stop"])

    thread = threading.Thread(target=asyncio.run, args=(main(),), name="e2e-controller", daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield
    finally:
        handles["loop"].call_soon_threadsafe(handles["stop"].set)
        thread.join(20)


def visit(page: Page, url: str) -> None:
    """``page.goto``, once more if the page we leave reloaded itself at that very moment (the Controller
    page refreshes every 5 s; its reload and our navigation can abort each other)."""
    try:
        page.goto(url)
    except PlaywrightError as exc:
        if "ERR_ABORTED" not in str(exc):
            raise
        page.goto(url)


def act(page: Page, target: Locator) -> None:
    """Click an action that changes something: the page reloads at once to show the new state."""
    with page.expect_navigation():
        target.click()


def add_tenant(page: Page, name: str, cpi: TenantEndpoint, secret: str, screenshot: str | None = None) -> None:
    page.click("#tenant-add")
    page.fill("#tenant-name", name)
    page.fill("#tenant-api-url", cpi.api_url)
    page.fill("#tenant-token-url", cpi.token_url)
    page.fill("#tenant-client-id", cpi.client_id)
    page.fill("#tenant-client-secret", secret)
    if screenshot:
        shot(page, screenshot)
    act(page, page.locator("#tenant-save"))
    expect(page.locator("#flash")).to_contain_text(f"tenant {name} added")
    expect(page.locator("#tenants")).to_contain_text(name)


def tenant_row(page: Page, name: str) -> Any:
    return page.locator("#tenants tbody tr", has_text=name).first


def tenants_journey(page: Page, base_url: str, cpi: TenantEndpoint, db: sessionmaker[Session]) -> int:
    page.goto(f"{base_url}/tenants")
    add_tenant(page, "sim-tenant", cpi, cpi.client_secret, screenshot="19-tenant-form")
    add_tenant(page, "wrong-secret", cpi, "not-the-secret")
    with db() as session:
        tenant_id = session.scalars(select(Tenant.id).where(Tenant.name == "sim-tenant")).one()
    tenant_row(page, "sim-tenant").locator("[data-test-connection]").click()
    result = page.locator(f"#test-result-{tenant_id}")
    expect(result).to_be_visible()
    expect(result).to_contain_text("Connected")
    expect(result).to_contain_text("OAuth token fetched")
    expect(result).to_contain_text("message log(s) on the first page")
    tenant_row(page, "wrong-secret").locator("[data-test-connection]").click()
    failed = page.locator("tr.result-row:not([hidden])", has_text="Failed")
    expect(failed).to_contain_text("CpiAuthError (HTTP 401)")
    expect(failed).to_contain_text("check the client id and secret")
    shot(page, "20-tenants-test-connection")

    tenant_row(page, "sim-tenant").locator("[data-edit-tenant]").click()
    expect(page.locator("#tenant-form-title")).to_have_text("Edit sim-tenant")
    page.fill("#tenant-rate", "4")
    act(page, page.locator("#tenant-save"))
    expect(page.locator("#flash")).to_contain_text("tenant sim-tenant saved")
    expect(tenant_row(page, "sim-tenant")).to_contain_text("4.0 /s")
    act(page, tenant_row(page, "wrong-secret").get_by_role("button", name="Disable"))
    expect(page.locator("#flash")).to_contain_text("wrong-secret disabled")
    expect(tenant_row(page, "wrong-secret")).to_contain_text("disabled")
    shot(page, "21-tenants")
    with db() as session:
        row = session.get(Tenant, tenant_id)
        assert row is not None
        assert row.rate_limit_per_s == 4.0
    return tenant_id


def schedules_journey(page: Page, base_url: str, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=base_url, headers=headers) as http:
        http.post("/api/v1/schedules", json={"name": "e2e-noop", "function": "noop", "interval_seconds": 600}
                  ).raise_for_status()
        http.post("/api/v1/schedules", json={"name": "nightly-noop", "function": "noop", "cron": "0 2 * * *"}
                  ).raise_for_status()
        http.post("/api/v1/schedules", json={"name": "e2e.cleanup_pending_configs", "interval_seconds": 86_400,
                                             "function": "cleanup_pending_configs_task"}).raise_for_status()
        http.post("/api/v1/schedules", json={"name": "e2e.alerts", "function": "check_and_create_alerts",
                                             "interval_seconds": 60, "per_tenant": True}).raise_for_status()
    page.goto(f"{base_url}/schedules")
    row = page.locator("#schedules tbody tr", has_text="e2e-noop")
    expect(row).to_contain_text("enabled")
    expect(row.locator(".last-run")).to_contain_text("never")
    act(page, row.get_by_role("button", name="Pause"))
    expect(page.locator("#flash")).to_contain_text("e2e-noop paused")
    expect(row).to_contain_text("paused")
    act(page, row.get_by_role("button", name="Resume"))
    expect(page.locator("#flash")).to_contain_text("e2e-noop resumed")
    expect(row).to_contain_text("enabled")
    act(page, row.get_by_role("button", name="Run now"))
    expect(page.locator("#flash")).to_contain_text("enqueued")
    link = row.locator(".last-run a")
    expect(link).to_contain_text("run ")
    expect(row.locator(".last-run")).to_contain_text("queued")
    act(page, page.locator("tr[data-schedule='e2e.cleanup_pending_configs']").get_by_role("button", name="Run now"))
    fanned = page.locator("tr[data-schedule='e2e.alerts']")
    expect(fanned).to_contain_text("every active tenant")
    act(page, fanned.get_by_role("button", name="Run now"))
    expect(page.locator("#flash")).to_contain_text("enqueued")
    expect(fanned.locator(".last-run")).to_contain_text("sim-tenant")  # the run of the one active tenant
    shot(page, "22-schedules")
    link.click()
    page.wait_for_url("**/jobs/*")
    expect(page.locator("h1")).to_contain_text("noop")


def alerts_journey(page: Page, base_url: str, tenant_id: int, db: sessionmaker[Session]) -> None:
    alert_id = seed_alert(db, tenant_id)
    page.goto(f"{base_url}/alerts")
    row = page.locator(f"#alert-{alert_id}")
    expect(row).to_contain_text("open")
    expect(row).to_contain_text("2 failed messages in 15 minutes")
    shot(page, "23-alerts")
    act(page, row.get_by_role("button", name="Acknowledge"))
    expect(page.locator("#flash")).to_contain_text("done")
    expect(row).to_contain_text("acknowledged")
    page.select_option("#filter-status", "open")
    page.click("#alert-filters button[type=submit]")
    expect(page.locator("#alerts tbody")).to_contain_text("No alert matches.")
    page.select_option("#filter-status", "acknowledged")
    page.click("#alert-filters button[type=submit]")
    expect(page.locator("#alerts tbody tr")).to_have_count(1)
    page.locator(f"#alert-{alert_id} a").first.click()
    expect(page.locator("#alert-status")).to_have_text("acknowledged")
    expect(page.locator("#acknowledged")).to_contain_text("by ops-admin")
    samples = page.locator("#samples tbody tr")
    expect(samples).to_have_count(3)
    samples.first.locator("summary").click()
    expect(samples.first.locator("pre")).to_contain_text("at step 3")
    expect(samples.nth(1)).to_contain_text("no error text stored")
    expect(samples.nth(2)).to_contain_text("not stored yet")
    shot(page, "24-alert")


def alert_rules_journey(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/alert-rules")
    expect(page.locator("#rules tbody tr")).to_have_count(2)  # each tenant's default rule
    page.click("#rule-add")
    page.fill("#rule-name", "e2e failures")
    page.select_option("#rule-tenant", label="sim-tenant")
    page.fill("#rule-threshold", "5")
    page.fill("#rule-webhooks", "https://hooks.example/e2e")
    shot(page, "25-alert-rule-form")
    act(page, page.locator("#rule-save"))
    expect(page.locator("#flash")).to_contain_text("rule e2e failures created")
    row = page.locator("#rules tbody tr", has_text="e2e failures")
    expect(row).to_contain_text("≥ 5")
    expect(row).to_contain_text("webhook: https://hooks.example/e2e")
    row.locator("[data-edit-rule]").click()
    page.fill("#rule-threshold", "7")
    act(page, page.locator("#rule-save"))
    expect(page.locator("#flash")).to_contain_text("rule e2e failures saved")
    expect(row).to_contain_text("≥ 7")
    shot(page, "25-alert-rules")
    act(page, row.get_by_role("button", name="Delete"))
    expect(page.locator("#rules tbody tr")).to_have_count(2)


def settings_journey(page: Page, base_url: str, tenant_id: int, db: sessionmaker[Session]) -> None:
    page.goto(f"{base_url}/settings")
    row = page.locator("#settings tr[data-key='retention.chat_days']")
    expect(row).to_contain_text("int")
    expect(row).to_contain_text("1 … 3650")
    row.locator(".global-value").fill("120")
    act(page, row.locator(".save-global"))
    expect(page.locator("#flash")).to_contain_text("retention.chat_days saved")
    expect(row.locator(".badge")).to_have_text("set")
    expect(row.locator(".global-value")).to_have_value("120")
    row.locator(".global-value").fill("99999")
    row.locator(".save-global").click()
    expect(page.locator("#flash")).to_contain_text("at most 3650")
    hot = page.locator("#settings tr[data-key='poll.hot.interval_s']")
    hot.locator(".override-tenant").select_option(label="sim-tenant")
    hot.locator(".override-value").fill("30")
    act(page, hot.locator(".add-override"))
    expect(page.locator("#flash")).to_contain_text("overridden for tenant")
    expect(hot.locator(".override")).to_contain_text("sim-tenant")
    metric = page.locator("#metric-settings tr[data-metric='storage']")
    metric.locator(".metric-interval").fill("7200")
    act(page, metric.locator(".save-metric"))
    expect(page.locator("#flash")).to_contain_text("storage saved")
    shot(page, "26-settings")
    with db() as session:
        values = {(r.key, r.tenant_id): r.value for r in session.scalars(select(ConfigExt))}
        storage = session.scalars(select(MetricSettings).where(MetricSettings.metric == "storage")).one()
    assert values[("retention.chat_days", None)] == 120
    assert values[("poll.hot.interval_s", tenant_id)] == 30.0
    assert storage.interval_seconds == 7200


def controller_journey(page: Page, base_url: str, settings: Settings) -> None:
    page.goto(f"{base_url}/controller")
    expect(page.locator("#controller-leader")).to_have_text("none")
    with running_controller(settings):
        # the page reloads itself every 5 s (as an operator leaves it open); wait for it to show the leader
        expect(page.locator("#controller-leader")).to_have_text("controller@e2e", timeout=20_000)
        expect(page.locator("#loop-poll_dispatch")).not_to_contain_text("never", timeout=15_000)
        expect(page.locator("#loops tbody tr")).to_have_count(len(dataclasses.fields(LoopIntervals)))  # every loop
        expect(page.locator("#loop-reconcile")).to_contain_text("ok")
        expect(page.locator("#loop-schedules")).to_contain_text("leader")
        shot(page, "27-controller")


def chat_journey(page: Page, base_url: str, settings: Settings) -> None:
    visit(page, f"{base_url}/chat")  # leaves the self-refreshing Controller page
    page.select_option("#chat-tenant", label="sim-tenant")
    page.fill("#chat-question", "What is failing right now?")
    page.click("#chat-ask")
    expect(page.locator("#chat-pending")).to_be_visible()
    expect(page.locator("#chat-thread .turn.user")).to_contain_text("What is failing right now?")  # shown at once
    expect(page.locator("#chat-tenant")).to_be_hidden()  # the conversation keeps its tenant
    expect(page.locator("#conversations li.active")).to_contain_text("What is failing right now?")
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's event loop
        pool.submit(asyncio.run, run_ai_worker(settings)).result(timeout=60)
    answer = page.locator("#chat-thread .turn.assistant")
    expect(answer).to_contain_text("In the last 24 hours: 2 messages, 2 failed or escalated.", timeout=15_000)
    expect(answer).to_contain_text("OrderSync: HTTP 503 from S/4")  # the stored error text, first line
    expect(answer).to_contain_text("(builtin)")
    expect(page.locator("#chat-pending")).to_be_hidden()
    assert "/chat?conversation=" in page.url
    shot(page, "28-chat")
    page.reload()
    expect(page.locator("#conversations li.active")).to_contain_text("What is failing right now?")
    expect(page.locator("#chat-thread .turn")).to_have_count(2)


def test_operator_pages_journey(page: Page, base_url: str, admin_token: str, settings: Settings,
                                db: sessionmaker[Session], sim: SimulatorServer) -> None:
    problems: list[str] = []  # script errors, and anything a Content-Security-Policy refused
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    sign_in(page, base_url, admin_token, "/tenants")
    tenant_id = tenants_journey(page, base_url, sim.tenant("tenant1"), db)
    schedules_journey(page, base_url, {"Authorization": f"Bearer {admin_token}"})
    alerts_journey(page, base_url, tenant_id, db)
    alert_rules_journey(page, base_url)
    settings_journey(page, base_url, tenant_id, db)
    controller_journey(page, base_url, settings)
    chat_journey(page, base_url, settings)
    assert problems == []


def test_viewer_sees_operator_actions_disabled(page: Page, base_url: str, viewer_token: str, admin_token: str,
                                              db: sessionmaker[Session]) -> None:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {admin_token}"}) as http:
        tenant = http.post("/api/v1/tenants", json={"name": "acme", "api_url": "https://acme.example/api/v1",
                                                    "client_id": "c", "client_secret": "s"}).json()
        http.post("/api/v1/schedules", json={"name": "s1", "function": "noop", "interval_seconds": 60})
    seed_alert(db, tenant["id"])
    sign_in(page, base_url, viewer_token, "/tenants")
    expect(page.locator("#tenant-add")).to_be_disabled()
    expect(page.locator("[data-test-connection]").first).to_be_disabled()
    for path, selector in (("/schedules", "#schedules button"), ("/alerts", "#alerts button"),
                           ("/alert-rules", "#rules button"), ("/settings", "#settings .save-global"),
                           ("/chat", "#chat-ask")):
        page.goto(f"{base_url}{path}")
        expect(page.locator(selector).first).to_be_disabled()
    page.goto(f"{base_url}/alert-rules")
    expect(page.locator("#rules")).to_contain_text("https://hooks.example/…")
    expect(page.locator("#rules")).not_to_contain_text("secret-path")
