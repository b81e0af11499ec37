"""``integramon simulator``: prints each tenant's credentials, serves them, and rejects bad options in one line."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx
import pytest

from integramon.cli import main


def test_cli_prints_credentials_that_work_and_serves_until_stopped() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEGRAMON_")}
    cmd = [
        sys.executable,
        "-m",
        "integramon",
        "simulator",
        "--port",
        "0",
        "--tenants",
        "2",
        "--seed",
        "9",
        "--rate",
        "1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        tenants = [dict(re.findall(r"(\w+)=(\S+)", line)) for line in lines[1:]]
        assert [t["client_id"] for t in tenants] == ["tenant1-client", "tenant2-client"]
        second = tenants[1]
        token = httpx.post(
            second["token_url"],
            data={"grant_type": "client_credentials"},
            auth=(second["client_id"], second["client_secret"]),
        )
        assert token.status_code == 200
        count = httpx.get(
            f"{second['api_url']}/MessageProcessingLogs/$count",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        assert int(count.text) > 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("args", "word"),
    [(["--tenants", "0"], "tenants"), (["--failure-ratio", "1.5"], "failure_ratio"), (["--port", "70000"], "--port")],
)
def test_bad_options_fail_with_one_line(args: list[str], word: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulator", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("integramon simulator:")
    assert word in err
    assert "\n" not in err
