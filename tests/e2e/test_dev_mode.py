"""First five minutes: ``integramon dev`` with no external service configured stores the demo tenant's
message logs, runs every hot-path function successfully, shows jobs and workers through the admin API,
runs itself (within two minutes an alert is open, stats rows exist and every default schedule has a
successful last run, all seen through the API, with no SQL typed), stops cleanly on Ctrl-C, and reuses
its data on the next start."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import cast

import redis as redis_sync
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.messages import MessageLog
from core.defaults import DEFAULT_SCHEDULES
from core.queues.catalog import GROUPS
from core.settings import Settings
from tests.processes import wait_until

HOT_PATH = {"read_message_logs", "read_payloads", "read_packages", "get_message_details_hot"}


def _api_port() -> int:
    """A free port BELOW the kernel's ephemeral range, like the default 8000: a port taken from that
    range could be handed again to a child that binds port 0 before the API binds it."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.sample(range(max(1024, low - 8000), low), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port below the ephemeral range")


def _start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEGRAMON_")}
    env |= {"INTEGRAMON_DATA_DIR": str(data_dir), "INTEGRAMON_API_PORT": str(port)}
    return subprocess.Popen([sys.executable, "-m", "integramon", "dev"], env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db, timeout=15) as conn:
        return conn.execute(sql).fetchall()


def _token(log: Path, proc: subprocess.Popen[bytes] | None = None) -> str | None:
    if proc is not None and proc.poll() is not None:
        raise AssertionError(f"integramon dev exited early:\n{log.read_text()[-3000:]}")
    for line in log.read_text().splitlines():
        if "admin token:" in line:
            return line.split("admin token:")[1].strip()
    return None


def _get(port: int, path: str, token: str) -> object:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _runs_itself(port: int, token: str) -> list[str]:
    """What is still missing of: an open alert, stats rows, a successful last run of every default schedule."""
    missing = []
    alerts = _get(port, "/api/v1/alerts?status=open", token)
    if not (isinstance(alerts, dict) and alerts["items"]):
        missing.append("an open alert")
    stats = _get(port, "/api/v1/stats", token)
    if not (isinstance(stats, dict) and stats["items"]):
        missing.append("stats rows")
    schedules = _get(port, "/api/v1/schedules", token)
    assert isinstance(schedules, dict)
    by_name = {s["name"]: s for s in schedules["items"]}
    for default in DEFAULT_SCHEDULES:
        row = by_name.get(default.name)
        assert row is not None, f"default schedule {default.name} missing: {sorted(by_name)}"
        if row["last_success_at"] is None:
            missing.append(f"a successful run of {default.name} (last: {row['last_run']})")
    return missing


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGINT)
    return proc.wait(60)


def test_make_dev_runs_everything_with_embedded_defaults(tmp_path: Path) -> None:
    data, port, log = tmp_path / "var", _api_port(), tmp_path / "dev.log"
    db = data / "integramon.db"
    proc = _start(data, port, log)
    started = time.monotonic()
    try:
        token = str(wait_until(lambda: _token(log, proc), timeout=90, what="console URL and admin token"))
        up = time.monotonic()
        assert f"http://127.0.0.1:{port}/" in log.read_text()
        assert "(embedded)" in log.read_text()
        wait_until(lambda: cast(int, _query(db, "select count(*) from message_log")[0][0]) > 0, timeout=90,
                   what="stored message logs")
        def succeeded() -> set[object]:
            return {f for (f,) in _query(db, "select distinct function from worker_job_run where status = 'succeeded'")}

        wait_until(lambda: succeeded() >= HOT_PATH, timeout=120, what=f"a successful run of each of {HOT_PATH}")
        print(f"hot path complete after {time.monotonic() - started:.1f} s")
        jobs = _get(port, "/api/v1/jobs?limit=5", token)
        assert isinstance(jobs, dict)
        assert jobs["items"]
        workers = _get(port, "/api/v1/workers", token)
        assert isinstance(workers, dict)
        assert {w["group"] for w in workers["workers"]} == set(GROUPS)  # one live worker per group
        left: list[str] = []

        def settled() -> bool:
            left[:] = _runs_itself(port, token)
            return not left

        try:
            wait_until(settled, timeout=max(1.0, 120 - (time.monotonic() - up)), interval=2.0)
        except AssertionError:
            raise AssertionError(f"two minutes after start, still missing: {left}") from None
        print(f"alert, stats and default schedules complete after {time.monotonic() - up:.1f} s")
        stored = cast(int, _query(db, "select count(*) from message_log")[0][0])
    finally:
        rc = _stop(proc) if proc.poll() is None else proc.returncode
    assert rc == 0, log.read_text()[-3000:]
    assert "stopped" in log.read_text()

    again = _start(data, port, tmp_path / "dev2.log")
    try:
        wait_until(lambda: _token(tmp_path / "dev2.log", again), timeout=90, what="second start")
        assert cast(int, _query(db, "select count(*) from message_log")[0][0]) >= stored  # data reused
        assert _query(db, "select count(*) from tenant where name = 'demo'") == [(1,)]
    finally:
        assert _stop(again) == 0


def test_configured_database_and_redis_win_over_the_embedded_ones(
        tmp_path: Path, settings: Settings, db: sessionmaker[Session]) -> None:
    port, log = _api_port(), tmp_path / "dev.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEGRAMON_")}
    env |= {"INTEGRAMON_DATA_DIR": str(tmp_path / "var"), "INTEGRAMON_API_PORT": str(port),
            "INTEGRAMON_DATABASE_URL": settings.database_url, "INTEGRAMON_REDIS_URL": settings.redis_url}
    proc = subprocess.Popen([sys.executable, "-m", "integramon", "dev"], env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _token(log, proc), timeout=90, what="console URL and admin token")
        text = log.read_text()
        assert f"redis:       {settings.redis_url}\n" in text  # no "(embedded)"
        assert "database:    postgresql" in text
        assert not (tmp_path / "var" / "integramon.db").exists()
        assert not (tmp_path / "var" / "redis").exists()

        def stored() -> int:
            with db() as session:
                return int(session.scalar(select(func.count()).select_from(MessageLog)) or 0)

        wait_until(lambda: stored() > 0, timeout=90, what="message logs in the configured PostgreSQL")
        assert redis_sync.Redis.from_url(settings.redis_url).scard("integramon:workers") == len(GROUPS)
    finally:
        rc = _stop(proc) if proc.poll() is None else proc.returncode
    assert rc == 0, log.read_text()[-3000:]
