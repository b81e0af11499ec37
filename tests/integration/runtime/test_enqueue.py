"""Enqueue through the core: ledger row first, arq job second, duplicates refused, bad input named."""

from __future__ import annotations

import subprocess
import sys

import redis as redis_sync
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from tests.integration.runtime.conftest import enqueue, runs
from tests.processes import process_env


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "integramon", *args],
        env=process_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_enqueue_prints_ids_and_writes_ledger_rows(
    settings: Settings, db: sessionmaker[Session], rsync: redis_sync.Redis
) -> None:
    out = _cli(settings, "enqueue", "sleep", "--args", '{"seconds": 1, "api_token": "hunter2"}', "--count", "3")
    assert out.returncode == 0, out.stderr
    ids = out.stdout.split()
    assert len(ids) == 3
    rows = runs(db)
    assert [r.arq_job_id for r in rows] == ids
    assert {r.status for r in rows} == {"queued"}
    assert rows[0].args_redacted == {"seconds": 1, "api_token": "***"}  # secrets never reach the ledger
    assert rows[0].max_attempts == 4
    assert rsync.zcard("arq:queue:periodic_run") == 3


def test_cli_bad_input_is_one_line_and_non_zero(settings: Settings, db: sessionmaker[Session]) -> None:
    unknown = _cli(settings, "enqueue", "no_such_function")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "integramon enqueue: unknown function 'no_such_function'; see `integramon catalog`"
    )
    not_object = _cli(settings, "enqueue", "noop", "--args", "[1, 2]")
    assert not_object.returncode == 2
    assert "--args must be a JSON object" in not_object.stderr
    broken = _cli(settings, "enqueue", "noop", "--args", "{nope")
    assert broken.returncode == 2
    assert "--args is not valid JSON" in broken.stderr
    assert runs(db) == []


def test_dedup_key_allows_one_unfinished_run(settings: Settings, db: sessionmaker[Session]) -> None:
    first = enqueue(settings, "noop", dedup_key="poll:1:hot")
    again = enqueue(settings, "noop", dedup_key="poll:1:hot")
    other = enqueue(settings, "noop", dedup_key="poll:2:hot")
    assert len(first) == 1
    assert again == []
    assert len(other) == 1
    assert len(runs(db)) == 2


def test_unreachable_redis_is_one_clear_line(settings: Settings) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "integramon", "enqueue", "noop"],
        env=process_env(settings, INTEGRAMON_REDIS_URL="redis://127.0.0.1:1/0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("integramon enqueue: Redis not reachable at redis://127.0.0.1:1/0")
