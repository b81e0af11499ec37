"""Run the admin API with uvicorn on a free loopback port in a background thread (schemathesis, Playwright)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from admin_api import create_app
from core.settings import Settings
from tests.ports import free_port


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """Yield the base URL of a running server; stop it on exit."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, pool_size=4),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("admin API did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
