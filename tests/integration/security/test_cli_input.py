"""``integramon enqueue`` shares the API's rules: bad input is one line on stderr and a non-zero exit,
never a traceback, and nothing is written (issue 12, item 7)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from tests.integration.runtime.conftest import runs
from tests.processes import process_env


def _enqueue(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "integramon", "enqueue", *args], env=process_env(settings),
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("args", "words"), [
    (["noop", "--args", '{"x": NaN}'], "finite"),
    (["noop", "--args", '{"x": 1e999}'], "finite"),
    (["noop", "--args", '{"x": 123456789012345678901234567890}'], "64-bit"),
    (["noop", "--args", "[" * 30_000 + "]" * 30_000], "--args"),
    (["noop", "--args", json.dumps({"x": "[" * 50 + "]" * 50})], None),  # a string is fine: control case
    (["noop", "--args", '{"not an identifier": 1}'], "identifiers"),
    (["noop", "--args", '{"_private": 1}'], "identifiers"),
    (["noop", "--args", json.dumps({"x": "y" * 70_000})], "larger than"),
    (["noop", "--args", "[1]"], "JSON object"),
    (["noop", "--args", "{"], "is not valid JSON"),
    (["noop", "--tenant", "424242"], "no tenant"),
    (["noop", "--tenant", str(2**70)], "no tenant"),
    (["noop", "--count", "0"], "--count"),
    (["noop", "--count", "1000000000"], "--count"),
    (["no_such_function"], "unknown function"),
])
def test_bad_enqueue_input_is_one_line(
    settings: Settings, db: sessionmaker[Session], args: list[str], words: str | None
) -> None:
    done = _enqueue(settings, *args)
    if words is None:
        assert done.returncode == 0, done.stderr
        assert len(runs(db)) == 1
        return
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr[-2000:]
    assert words in lines[0]
    assert runs(db) == []
