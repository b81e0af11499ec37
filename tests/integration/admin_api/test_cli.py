"""``integramon token create`` prints a working token once; ``integramon api`` serves the app."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from core.settings import Settings, settings_to_env
from tests.ports import free_port


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEGRAMON_")}
    return env | settings_to_env(settings)


def test_token_create_then_api_serves_with_it(settings: Settings) -> None:
    env = _env(settings)
    done = subprocess.run([sys.executable, "-m", "integramon", "token", "create", "--role", "admin", "--name", "ci"],
                          env=env, capture_output=True, text=True, check=True)
    token = done.stdout.strip().splitlines()[-1]
    assert token.startswith("imt_")
    again = subprocess.run([sys.executable, "-m", "integramon", "token", "create", "--role", "admin", "--name", "ci"],
                           env=env, capture_output=True, text=True)
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "integramon", "api", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        me = _wait_for(f"http://127.0.0.1:{port}/api/v1/auth/me", token)
        assert me == {"name": "ci", "role": "admin"}
    finally:
        server.terminate()
        server.wait(10)


def _wait_for(url: str, token: str) -> dict[str, str]:
    deadline = time.monotonic() + 20
    while True:
        try:
            response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=2)
            return dict(response.json())
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "integramon api did not start"
            time.sleep(0.2)
