"""The bottleneck demo in ``integramon dev``: make the demo tenant throttle through the simulator's
documented admin endpoint; within a minute the Bottlenecks page says CPI is the limit and the tuning
preview warns against raising the light group (API assertions and a screenshot of the page)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import expect, sync_playwright

from tests.e2e.console.conftest import CHROMIUM, LAUNCH_ARGS, SCREENSHOTS
from tests.e2e.test_dev_mode import _api_port, _get, _query, _start, _stop, _token
from tests.processes import wait_until


def _post(url: str, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def test_throttling_demo_tenant_shows_cpi_as_the_limit(tmp_path: Path) -> None:
    data, port, log = tmp_path / "var", _api_port(), tmp_path / "dev.log"
    proc = _start(data, port, log)
    try:
        token = str(wait_until(lambda: _token(log, proc), timeout=120, interval=0.5, what="dev mode start"))
        ((api_url,),) = _query(data / "integramon.db", "select api_url from tenant")
        sim_root, rest = str(api_url).split("/t/", 1)
        sim_tenant = rest.split("/", 1)[0]
        _post(f"{sim_root}/_sim/tenants/{sim_tenant}/faults", {"status_429_every": 2, "retry_after_s": 1})

        def throttled() -> dict[str, Any] | None:
            view: dict[str, Any] = _get(port, "/api/v1/bottlenecks", token)  # type: ignore[assignment]
            light = next(g for g in view["groups"] if g["group"] == "light")
            return view if light["verdict"] == "cpi-throttled" else None

        view = wait_until(throttled, timeout=90, interval=2, what="light group judged CPI-throttled")
        assert isinstance(view, dict)
        assert any(c["throttled"] > 0 for c in view["cpi"])
        preview = _post(f"http://127.0.0.1:{port}/api/v1/worker-tuning/preview",
                        {"profile": "balanced", "overrides": {"light": 4}}, token)
        assert any(w.startswith("CPI is throttling tenant") and "raising light" in w for w in preview["warnings"])

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/bottlenecks")
            page.fill("#token", token)
            page.click("#sign-in")
            page.wait_for_load_state("networkidle")
            expect(page.locator("tr[data-group=light] .verdict")).to_contain_text("CPI throttling tenant")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "20-bottlenecks-cpi-throttled.png"), full_page=True)
            browser.close()
    finally:
        assert _stop(proc) == 0, log.read_text()[-3000:]
