"""``integramon api --workers 2``: prometheus_client's multiprocess mode adds up every worker's counters."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import httpx
from sqlalchemy.orm import Session, sessionmaker

from admin_api.auth.services import create_token
from core.settings import Settings
from tests.integration.admin_api.test_cli import _env
from tests.ports import free_port

COUNT = re.compile(r'^integramon_api_requests_total\{method="GET",route="/api/v1/auth/me",status="2xx"\} (\S+)$', re.M)


def test_request_counters_of_every_worker_process_add_up(settings: Settings, db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        token = create_token(session, "prom", "admin")
    headers = {"Authorization": f"Bearer {token}"}
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "integramon", "api", "--port", str(port), "--workers", "2"],
                              env=_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/health/live", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "integramon api --workers 2 did not start"
                time.sleep(0.2)
        for i in range(40):  # new connections each time: the kernel spreads them over both processes
            assert httpx.get(f"{base}/api/v1/auth/me", headers=headers, timeout=5).status_code == 200, i
        scrapes = [httpx.get(f"{base}/metrics", headers=headers, timeout=10).text for _ in range(4)]
    finally:
        server.terminate()
        server.wait(15)
    for text in scrapes:  # whichever process answers the scrape, it reports all 40
        match = COUNT.search(text)
        assert match is not None, text[-2000:]
        assert float(match.group(1)) == 40.0
