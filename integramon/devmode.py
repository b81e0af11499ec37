"""``integramon dev``: the whole system in one process tree with embedded defaults.

A migrated SQLite database and a local archive folder in the data folder, an embedded Redis unless
``INTEGRAMON_REDIS_URL`` is set (a configured database URL likewise wins over SQLite), the CPI
simulator with one demo tenant, the controller, one worker per group (all groups in one process),
and the admin API with its console. Ctrl-C stops every child cleanly; a second start reuses the data.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import select

from core.db.migrate import upgrade
from core.db.models.tenants import Tenant
from core.db.session import create_db_engine, make_session_factory
from core.defaults import add_default_rule
from core.errors import ServiceUnavailable
from core.secrets import SecretBox
from core.settings import Settings, env_name, settings_to_env
from core.urls import mask_url
from integramon.embedded_redis import EmbeddedRedis

__all__ = ["DevStack", "run_dev"]

DEMO_TENANT = "demo"


@dataclass
class DevStack:
    """The children of ``integramon dev`` and how to start and stop them."""

    settings: Settings
    log_dir: Path
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    redis: EmbeddedRedis | None = None

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("INTEGRAMON_")}
        return base | settings_to_env(self.settings)

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "integramon", *args], env=self.env(),
                                stdout=log, stderr=subprocess.STDOUT)
        self.children[name] = proc
        return proc

    def stop(self) -> None:
        """SIGTERM every child (workers get their grace period), then stop the embedded Redis."""
        for proc in self.children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds + 10
        for proc in self.children.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self.redis is not None:
            self.redis.stop()

    def dead_child(self) -> str | None:
        for name, proc in self.children.items():
            if proc.poll() is not None:
                return name
        return None


def _wait_http(url: str, what: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceUnavailable(f"{what} exited during start-up (exit code {proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read() or b"null")
        except OSError:
            time.sleep(0.2)
    raise ServiceUnavailable(f"{what} did not answer at {url} within {timeout:g} s")


def _announced_root(log: Path, offset: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> str:
    """The ``http://host:port`` the simulator prints (after ``offset`` in its log) once it is bound."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with log.open("rb") as handle:
            handle.seek(offset)
            fresh = handle.read().decode(errors="replace")
        for line in fresh.splitlines():
            if line.startswith("CPI simulator on "):
                return line.split()[3]
        if proc.poll() is not None:
            raise ServiceUnavailable(f"CPI simulator exited during start-up (exit code {proc.returncode})")
        time.sleep(0.1)
    raise ServiceUnavailable(f"CPI simulator did not report its address within {timeout:g} s")


def _register_demo_tenant(settings: Settings, info: dict[str, Any]) -> None:
    """Create the demo tenant, or point it at this run's simulator port."""
    engine = create_db_engine(settings.resolved_database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            tenant = session.execute(select(Tenant).where(Tenant.name == DEMO_TENANT)).scalar_one_or_none()
            if tenant is None:
                tenant = Tenant(name=DEMO_TENANT, client_id=info["client_id"], auth_type="oauth", active=True,
                                api_url=info["api_url"], client_secret_encrypted="")
                session.add(tenant)
                session.flush()
                add_default_rule(session, tenant.id)
            tenant.api_url = info["api_url"]
            tenant.token_url = info["token_url"]
            tenant.client_id = info["client_id"]
            tenant.client_secret_encrypted = SecretBox(settings).encrypt(info["client_secret"])
    finally:
        engine.dispose()


def _create_token(stack: DevStack) -> str:
    out = subprocess.run([sys.executable, "-m", "integramon", "token", "create", "--role", "admin",
                          "--name", f"dev-{int(time.time())}"], env=stack.env(), capture_output=True, text=True,
                         check=True)
    return out.stdout.strip().splitlines()[-1]


def start(settings: Settings) -> DevStack:
    """Bring the stack up and return it (used by ``run_dev`` and the end-to-end test)."""
    data_dir = settings.data_dir
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    stack = DevStack(settings, data_dir / "logs")
    if env_name("redis_url") not in os.environ:
        stack.redis = EmbeddedRedis(data_dir, avoid={settings.api_port})
        stack.redis.start()
        stack.settings = settings = replace(settings, redis_url=stack.redis.url)
    try:
        upgrade(settings.resolved_database_url, settings=settings)
        # Port 0: the simulator binds a free port itself and prints it; picking one here and passing
        # it down could race with the API's port (or anything else) between the pick and the bind.
        sim_log = stack.log_dir / "simulator.log"
        offset = sim_log.stat().st_size if sim_log.exists() else 0  # logs append across starts
        sim = stack.spawn("simulator", "simulator", "--port", "0", "--tenants", "1", "--seed", "7",
                          "--history-days", "2", "--history-per-day", "500")
        sim_root = _announced_root(sim_log, offset, sim)
        tenants = _wait_http(f"{sim_root}/_sim/tenants", "CPI simulator", sim)
        _register_demo_tenant(settings, tenants[0])
        stack.spawn("workers", "worker", "--all-groups")
        stack.spawn("controller", "controller")
        api = stack.spawn("api", "api")
        _wait_http(f"http://{settings.api_host}:{settings.api_port}/health/live", "admin API", api)
    except BaseException:
        stack.stop()
        raise
    return stack


def _redis_warnings(url: str) -> list[str]:
    """The seed's durability warnings about this Redis (said once at start; the console repeats them)."""
    from redis.asyncio import Redis  # here: only the dev command needs the async client for this check

    from core.pressure.redis_info import redis_durability

    async def check() -> list[str]:
        client = Redis.from_url(url)
        try:
            return (await redis_durability(client)).warnings
        finally:
            await client.aclose()

    try:
        return asyncio.run(check())
    except (OSError, RedisError) as exc:
        return [f"could not check Redis durability: {type(exc).__name__}"]


def run_dev(settings: Settings) -> int:
    """Foreground mode: print where to go, then supervise until Ctrl-C or a child dies."""
    stack = start(settings)
    token = _create_token(stack)
    url = f"http://{settings.api_host}:{settings.api_port}/"
    stopping = False

    def on_signal(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    # before the banner: whoever reads the token may stop us at once, and Ctrl-C must then stop cleanly
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    warnings = _redis_warnings(stack.settings.redis_url)
    print(f"IntegraMon is running.\n  console:     {url}\n  admin token: {token}\n"
          f"  database:    {mask_url(stack.settings.resolved_database_url)}\n"
          f"  redis:       {mask_url(stack.settings.redis_url)}"
          f"{' (embedded)' if stack.redis else ''}\n  logs:        {stack.log_dir}/\nPress Ctrl-C to stop.",
          flush=True)
    for warning in warnings:
        print(f"  warning:     {warning}", flush=True)
    try:
        while not stopping:
            dead = stack.dead_child()
            if dead:
                print(f"integramon dev: {dead} exited unexpectedly; see {stack.log_dir / (dead + '.log')}",
                      file=sys.stderr)
                return 1
            time.sleep(0.5)
    finally:
        print("stopping…", flush=True)
        stack.stop()
        print("stopped", flush=True)
    return 0
