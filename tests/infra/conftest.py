"""Fixtures of the infra tests: the catalog to compare with, and the compose file as the real
Compose v2 parser renders it (run once per session in a scratch copy, so a developer's own
infra/compose/.env never leaks into the result)."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from core.queues.catalog import GROUPS
from tests.infra.toolchain import COMPOSE_DIR, compose_binary, run

TEST_SECRET_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
TEST_REDIS_PASSWORD = "redis-canary-pw"


def copy_compose_project(target: Path) -> Path:
    """compose.yaml, .env.example and init/ in a scratch folder (no .env unless a test writes one)."""
    shutil.copy(COMPOSE_DIR / "compose.yaml", target / "compose.yaml")
    shutil.copy(COMPOSE_DIR / ".env.example", target / ".env.example")
    shutil.copytree(COMPOSE_DIR / "init", target / "init")
    return target / "compose.yaml"


def compose_config(compose_file: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``docker compose config --format json`` by the real parser; returns (exit code, stdout, stderr)."""
    base_env = {"PATH": os.environ.get("PATH", ""), "HOME": str(compose_file.parent)}
    result = run([compose_binary(), "-f", compose_file, *extra, "config", "--format", "json"],
                 env=base_env | (env or {}), cwd=compose_file.parent)
    return result.returncode, result.stdout, result.stderr


@pytest.fixture(scope="session")
def catalog_concurrency() -> dict[str, int]:
    """Worker group -> concurrency of the default (balanced) profile, from the catalog."""
    return {name: spec.concurrency for name, spec in GROUPS.items()}


@pytest.fixture(scope="session")
def compose_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_compose_project(tmp_path_factory.mktemp("compose"))


@pytest.fixture(scope="session")
def rendered_compose(compose_project: Path) -> dict[str, Any]:
    """The compose model with the demo profile on, as Compose itself resolves it."""
    env = {"INTEGRAMON_SECRET_KEY": TEST_SECRET_KEY, "REDIS_PASSWORD": TEST_REDIS_PASSWORD}
    rc, out, err = compose_config(compose_project, "--profile", "demo", env=env)
    assert rc == 0, f"compose config failed: {err}"
    return dict(json.loads(out))
