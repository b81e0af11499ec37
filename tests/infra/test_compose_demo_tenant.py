"""The compose demo profile's one-shot (infra/compose/init/register_demo_tenant.py) against the real CPI
simulator and a real, migrated PostgreSQL: after it, tenant "demo" points at the simulator with its
client secret encrypted like every tenant secret."""

from __future__ import annotations

import base64
import importlib.util
import os
import subprocess
import sys

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.tenants import Tenant
from core.secrets import SecretBox
from core.settings import Settings
from simulator.config import SimulatorConfig
from simulator.server import SimulatorServer
from tests.infra.toolchain import COMPOSE_DIR, REPO, run

SCRIPT = COMPOSE_DIR / "init" / "register_demo_tenant.py"
SECRET_KEY = base64.urlsafe_b64encode(b"d" * 32).decode()


def run_script(pg_url: str, simulator_url: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "INTEGRAMON_DATABASE_URL": pg_url, "INTEGRAMON_SECRET_KEY": SECRET_KEY}
    return run([sys.executable, SCRIPT, simulator_url], env=env, cwd=REPO, timeout=60)


def test_registers_the_simulator_tenant_once(pg_url: str, db: sessionmaker[Session]) -> None:
    with SimulatorServer(SimulatorConfig(tenants=1, seed=42, history_days=0, history_per_day=0)) as sim:
        first = run_script(pg_url, sim.url)
        assert first.returncode == 0, first.stderr
        assert "created" in first.stdout
        again = run_script(pg_url, sim.url)
        assert again.returncode == 0, again.stderr
        assert "updated" in again.stdout
        expected = sim.tenant("tenant1")
    with db() as session:
        tenants = session.execute(select(Tenant)).scalars().all()
    assert [t.name for t in tenants] == ["demo"]
    demo = tenants[0]
    assert demo.api_url == expected.api_url
    assert demo.token_url == expected.token_url
    assert demo.client_id == expected.client_id
    assert demo.client_secret_encrypted != expected.client_secret
    assert SecretBox(Settings(secret_key=SECRET_KEY)).decrypt(demo.client_secret_encrypted) == expected.client_secret


def test_unreachable_simulator_fails_the_one_shot(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("register_demo_tenant", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ATTEMPTS", 2)
    monkeypatch.setattr(module, "PAUSE_S", 0.01)
    with pytest.raises(RuntimeError, match="did not answer"):
        module.fetch_tenants("http://127.0.0.1:9")
