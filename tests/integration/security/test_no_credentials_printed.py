"""Credentials in URLs never reach output: real processes fail against unreachable services whose
URLs carry a canary password, and their whole output (stderr, logs, health records) is grepped."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import cast

import pytest
import redis as redis_sync
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.base import utcnow
from core.events.outbox import record_event
from core.queues.keys import CONTROLLER_LOOPS as CONTROLLER_LOOPS_KEY
from core.settings import Settings
from core.urls import mask_text, mask_url
from tests.processes import process_env, running, wait_until

CANARY = "canaryPW-9d3f1"
DEAD_REDIS = f"redis://:{CANARY}@127.0.0.1:1/0"
DEAD_PG = f"postgresql+psycopg://postgres:{CANARY}@127.0.0.1:1/integramon"
DEAD_RABBIT = f"amqp://guest:{CANARY}@127.0.0.1:1/"


def _run(settings: Settings, *args: str, **env: str) -> str:
    """Everything the process prints while it fails: it either exits (CLI commands) or, like the worker
    and controller, waits with backoff for the store to come back -- then it is stopped after its
    first complaint."""
    proc = subprocess.Popen([sys.executable, "-m", "integramon", *args], env=process_env(settings, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    return out.decode(errors="replace")


@pytest.mark.parametrize("args", [("worker", "--group", "periodic"), ("controller",), ("enqueue", "noop"),
                                  ("api", "--port", "0")])
def test_processes_failing_on_redis_print_no_password(settings: Settings, args: tuple[str, ...]) -> None:
    out = _run(settings, *args, INTEGRAMON_REDIS_URL=DEAD_REDIS)
    assert "127.0.0.1:1" in out  # it did report the failing address ...
    assert CANARY not in out  # ... without the password


def test_migrate_failing_on_postgres_prints_no_password(settings: Settings) -> None:
    out = _run(settings, "migrate", INTEGRAMON_DATABASE_URL=DEAD_PG)
    assert "not reachable" in out
    assert CANARY not in out


def test_a_controller_failing_on_rabbitmq_logs_and_reports_no_password(
    settings: Settings, db: sessionmaker[Session], redis_url: str, tmp_path: Path
) -> None:
    with db() as session, session.begin():
        record_event(session, "run.failed", {"job_id": "x", "at": utcnow().isoformat()})
    log = tmp_path / "controller.log"
    client = redis_sync.Redis.from_url(redis_url)

    def loops() -> bytes:
        return b"".join(cast("list[bytes]", client.hvals(CONTROLLER_LOOPS_KEY)))

    with running(replace(settings, rabbitmq_url=DEAD_RABBIT), "controller", log=log,
                 INTEGRAMON_LOG_LEVEL="DEBUG"):
        wait_until(lambda: b"outbox" in loops() and b"127.0.0.1" in log.read_bytes() + loops(),
                   timeout=40, what="the outbox relay to fail on RabbitMQ")
    health = loops().decode()
    assert CANARY not in log.read_text()
    assert CANARY not in health


def test_webhook_failures_name_the_host_only() -> None:
    from functions.alerting.delivery import DeliveryError, post_webhook

    url = f"http://hook:{CANARY}@127.0.0.1:1/services/T0/B0/{CANARY}?token={CANARY}"
    with pytest.raises(DeliveryError) as failed:
        asyncio.run(post_webhook(url, {"x": 1}, attempts=1))
    assert "127.0.0.1:1" in str(failed.value)
    assert CANARY not in str(failed.value)


@pytest.mark.parametrize(("url", "masked"), [
    (DEAD_REDIS, "redis://***@127.0.0.1:1/0"),
    (DEAD_PG, "postgresql+psycopg://***@127.0.0.1:1/integramon"),
    ("amqp://guest:guest@rabbit/", "amqp://***@rabbit/"),
    ("https://cpi.example/api?x=1&client_secret=abc&access_token=def", "https://cpi.example/api?x=1&client_secret=***&access_token=***"),
    ("rediss://user:p%40ss@redis:6380", "rediss://***@redis:6380"),
    ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/"),
])
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert mask_text(f"failed: {url} (refused)") == f"failed: {masked} (refused)"
