"""Item 7 of "runs itself", seen in the console: within two minutes of ``integramon dev`` (no SQL typed,
no external service) the Alerts page lists an open alert of the demo tenant and the Schedules page lists
every default schedule, each with a last run linked to its job and a last success."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Page, expect

from core.defaults import DEFAULT_SCHEDULES
from tests.e2e.console.conftest import shot
from tests.e2e.console.test_console import sign_in
from tests.e2e.test_dev_mode import _api_port, _start, _stop, _token
from tests.processes import wait_until

SETTLE_S = 120.0


def _reload_until(page: Page, url: str, ready: str, arg: object, deadline: float, what: str) -> None:
    """Reload ``url`` until the JavaScript function ``ready(arg)`` holds, like an operator pressing F5."""
    while True:
        page.goto(url)
        if page.evaluate(ready, arg):
            return
        assert time.monotonic() < deadline, f"two minutes after start, the console still shows no {what}"
        time.sleep(2.0)


def test_dev_mode_console_shows_an_open_alert_and_every_default_schedule_ran(page: Page, tmp_path: Path) -> None:
    port, log = _api_port(), tmp_path / "dev.log"
    proc = _start(tmp_path / "var", port, log)
    try:
        token = str(wait_until(lambda: _token(log, proc), timeout=90, what="console URL and admin token"))
        deadline = time.monotonic() + SETTLE_S
        base = f"http://127.0.0.1:{port}"
        sign_in(page, base, token, "/alerts?status=open")
        _reload_until(page, f"{base}/alerts?status=open",
                      "() => document.querySelectorAll('#alerts tbody tr a').length > 0", None, deadline, "open alert")
        first = page.locator("#alerts tbody tr").first
        expect(first).to_contain_text("open")
        expect(first).to_contain_text("demo")
        shot(page, "30-dev-alerts")

        names = [d.name for d in DEFAULT_SCHEDULES]
        every_ran = ("names => names.every(n => { const row = document.querySelector(`tr[data-schedule='${n}']`);"
                     " return row && row.querySelector('.last-run a') &&"
                     " row.querySelector('.last-success').textContent.trim() !== '—'; })")
        _reload_until(page, f"{base}/schedules", every_ran, names, deadline,
                      "successful last run of every default schedule")
        for name in names:
            row = page.locator(f"tr[data-schedule='{name}']")
            expect(row.locator(".last-run a")).to_contain_text("run ")
        shot(page, "31-dev-schedules")
        page.locator("tr[data-schedule='default.alerts'] .last-run a").click()
        page.wait_for_url("**/jobs/*")
        expect(page.locator("h1")).to_contain_text("check_and_create_alerts")
    finally:
        rc = _stop(proc) if proc.poll() is None else proc.returncode
    assert rc == 0, log.read_text()[-3000:]
