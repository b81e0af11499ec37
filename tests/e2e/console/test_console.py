"""The console in headless Chromium: sign in, filter jobs, retry one, change the tuning profile, and a
screenshot of every page (``test-artifacts/screenshots/``)."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import redis as redis_sync
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.db.models.controller import QueueSample
from core.db.models.platform import ApiMetricSample, HostMetricSample, StorageSnapshot
from core.db.models.tuning import WorkerTuningSettings
from core.settings import Settings
from tests.e2e.console.conftest import shot
from tests.integration.admin_api.conftest import run_periodic_worker


def seed(base_url: str, token: str, settings: Settings, db: sessionmaker[Session]) -> None:
    """Finished, dead and queued runs, an hour of queue samples and a live worker heartbeat."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as http:
        for body in ({"function": "noop"}, {"function": "noop"}, {"function": "fail", "kwargs": {"message": "x"}}):
            http.post("/api/v1/jobs", json=body).raise_for_status()
    # Playwright's sync API owns this thread's event loop, so the worker runs on its own thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run_periodic_worker(settings)).result(timeout=60)
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as http:
        http.post("/api/v1/jobs", json={"function": "sleep", "defer_s": 900}).raise_for_status()
        http.post("/api/v1/jobs", json={"function": "noop"}).raise_for_status()
    now = utcnow()
    with db() as session, session.begin():
        session.add_all([
            QueueSample(sampled_at=now - timedelta(minutes=m), queue=q, group_name=g, ready=r, deferred=0,
                        running=1, oldest_ready_age_s=float(r * 3))
            for m in range(0, 60, 2)
            for q, g, r in (("messagelog_read", "light", (m * 7) % 23), ("periodic_run", "periodic", (m * 3) % 11))])
        session.add_all([
            HostMetricSample(host=h, taken_at=now - timedelta(minutes=m), cpu_percent=float((m * k) % 90),
                             memory_percent=float(30 + (m * k) % 40), memory_used_bytes=1, disk_percent=20.0,
                             disk_used_bytes=1, load_1m=0.5, load_5m=0.5, load_15m=0.5)
            for m in range(0, 180, 5) for h, k in (("worker-a", 7), ("worker-b", 3))])
        session.add_all([
            ApiMetricSample(taken_at=now - timedelta(minutes=m), route=r, requests=(m * k) % 50 + 1, errors=0,
                            total_ms=10.0, avg_ms=2.0, cumulative={})
            for m in range(0, 180, 5) for r, k in (("GET /api/v1/jobs", 3), ("GET /metrics", 5))])
        session.add(StorageSnapshot(taken_at=now, kind="deep", object_name="message_log", row_count=1200,
                                    size_bytes=3 * 1048576))
    beat_fake_worker(settings)


def beat_fake_worker(settings: Settings) -> None:
    """A fresh heartbeat of a made-up worker (the console hides heartbeats older than the TTL, so
    this is called again right before a page that must show it)."""
    client = redis_sync.Redis.from_url(settings.redis_url)
    beat = {"worker_id": "periodic-demo", "group": "periodic", "queues": ["periodic_run", "stats_cache"],
            "concurrency": 2, "running": [], "host": "e2e-host", "pid": 4242, "version": "0.1.0",
            "started_at": time.time() - 300, "last_seen": time.time()}
    client.sadd("integramon:workers", "periodic-demo")
    client.set("integramon:worker:periodic-demo", json.dumps(beat), ex=120)
    client.close()


def sign_in(page: Page, base_url: str, token: str, path: str = "/jobs") -> None:
    page.goto(f"{base_url}{path}")
    expect(page.locator("h1")).to_have_text("Sign in")
    page.fill("#token", token)
    page.click("#sign-in")
    page.wait_for_load_state("networkidle")


def test_operator_journey(page: Page, base_url: str, admin_token: str, settings: Settings,
                          db: sessionmaker[Session]) -> None:
    seed(base_url, admin_token, settings, db)
    page.goto(f"{base_url}/jobs")
    shot(page, "00-login")
    sign_in(page, base_url, admin_token)
    expect(page.locator("#runs tbody tr")).to_have_count(5)
    # the shared test Redis keeps nothing on disk: every page's header says so (the seed's warning)
    expect(page.locator("#redis-warnings")).to_contain_text("keeps nothing on disk")
    shot(page, "01-jobs")

    page.select_option("select[name=function]", "fail")
    page.select_option("select[name=status]", "dead")
    page.click("#filters button[type=submit]")
    expect(page.locator("#runs tbody tr")).to_have_count(1)
    expect(page.locator("#runs tbody tr").first).to_contain_text("dead")
    shot(page, "02-jobs-filtered")

    page.locator("#runs tbody tr a").first.click()
    expect(page.locator("#job-status")).to_have_text("dead")
    expect(page.locator("#attempts li")).to_have_count(3)
    shot(page, "03-job-dead")
    page.click("#retry")
    page.wait_for_url("**/jobs/*")
    expect(page.locator("#job-status")).to_have_text("queued")
    expect(page.locator("dl.facts")).to_contain_text("replay of")
    shot(page, "04-job-retried")

    for path, name in (("/dead-letters", "05-dead-letters"), ("/queues", "06-queues"), ("/redis", "07-redis"),
                       ("/workers", "08-workers"), ("/platform", "10-platform")):
        beat_fake_worker(settings)
        page.goto(f"{base_url}{path}")
        expect(page.locator("h1")).to_be_visible()
        shot(page, name)
    page.goto(f"{base_url}/queues")
    expect(page.locator("#chart-ready svg")).to_have_count(1)
    beat_fake_worker(settings)
    page.goto(f"{base_url}/workers")
    expect(page.locator("#workers")).to_contain_text("periodic-demo")
    page.goto(f"{base_url}/platform")
    expect(page.locator("#chart-cpu svg")).to_have_count(1)
    expect(page.locator("#storage")).to_contain_text("message_log")

    page.goto(f"{base_url}/tuning")
    page.select_option("#profile", "fast")
    page.click("#preview")
    expect(page.locator("#preview-box")).to_be_visible()
    expect(page.locator("#preview-rows tr.changed")).to_have_count(4)
    page.click("#apply")
    expect(page.locator("#flash")).to_contain_text("applied profile fast")
    shot(page, "09-tuning")
    with db() as session:
        row = session.get(WorkerTuningSettings, 1)
        assert row is not None
        assert row.active_profile == "fast"


def test_viewer_sees_disabled_actions(page: Page, base_url: str, viewer_token: str) -> None:
    sign_in(page, base_url, viewer_token, "/tuning")
    expect(page.locator("#apply")).to_be_disabled()
    expect(page.locator("header .role")).to_have_text("viewer")


def test_wrong_token_stays_on_sign_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#token", "imt_wrong")
    page.click("#sign-in")
    expect(page.locator(".error")).to_contain_text("unknown or revoked token")
