"""The fault tier's small but realistic topology on private services.

A throw-away redis-server and PostgreSQL cluster, the CPI simulator (3 tenants, new messages every
second), and as real ``integramon`` processes: the controller, one worker serving every group and
the admin API. The tier kills and restarts the private services under load and checks what the
processes did about it. A process that died is restarted by :meth:`Topology.revive` (and
recorded), so one defect does not hide the checks of later scenarios; the tier's last test asserts
that nothing needed such a restart.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from admin_api.auth.services import create_token
from core.db.migrate import upgrade
from core.db.models.messages import IngestWatermark, MessageLog
from core.db.models.scheduling import ConfigExt
from core.db.models.tenants import Tenant
from core.db.session import create_db_engine, make_session_factory
from core.secrets import SecretBox
from core.settings import Settings
from simulator.config import SimulatorConfig
from simulator.server import SimulatorServer
from tests.faults.services import PgCluster, RedisServer
from tests.ports import free_port
from tests.processes import integramon, process_env

__all__ = ["HOT_INTERVAL_S", "Topology"]

HOT_INTERVAL_S = 10.0  # hot poll interval of the tier ("polling resumes within two poll intervals")
ROLES = {"controller": ("controller",), "worker": ("worker", "--all-groups"), "api": ("api",)}


@dataclasses.dataclass
class Topology:
    workdir: Path
    redis: RedisServer
    pg: PgCluster
    simulator: SimulatorServer
    sim_config: SimulatorConfig
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    token: str
    tenants: dict[int, str]  # tenant id -> simulator tenant name
    procs: dict[str, subprocess.Popen[bytes]] = dataclasses.field(default_factory=dict)
    revived: list[str] = dataclasses.field(default_factory=list)  # "<role> after <scenario>"
    stopped: set[str] = dataclasses.field(default_factory=set)  # roles a test stopped on purpose
    recovery: dict[str, float] = dataclasses.field(default_factory=dict)  # scenario -> seconds

    @classmethod
    def build(cls, workdir: Path) -> Topology:
        redis = RedisServer(workdir / "redis", persistent=True)
        redis.start()
        pg = PgCluster()
        pg.init()
        pg.start()
        url = pg.create_database("integramon")
        upgrade(url)
        settings = Settings(  # an explicit key: a standby controller may use its own data folder
            data_dir=workdir / "data", database_url=url, redis_url=redis.url(0),
            secret_key=Fernet.generate_key().decode(),
            job_lease_seconds=5.0, shutdown_grace_seconds=3.0, heartbeat_interval_seconds=0.5,
            heartbeat_ttl_seconds=3.0, tuning_refresh_seconds=2.0, poll_delay_seconds=0.5,
            controller_lease_seconds=3.0, queue_sample_seconds=5.0, reconcile_seconds=3.0,
            job_vanished_grace_seconds=3.0, cpi_timeout_seconds=5.0, api_port=free_port(), log_level="INFO",
        )
        sim_config = SimulatorConfig(tenants=3, seed=17, rate=4.0, failure_ratio=0.0, history_days=0,
                                     history_per_day=0, hang_s=3.0)
        simulator = SimulatorServer(sim_config).start()
        engine = create_db_engine(url, pool_size=2)
        sessions = make_session_factory(engine)
        tenants = _register(sessions, settings, simulator)
        with sessions() as session, session.begin():
            token = create_token(session, "fault-tier", "admin")
            session.add_all([ConfigExt(tenant_id=None, key=f"poll.{kind}.interval_s", value=value) for kind, value in
                             (("hot", HOT_INTERVAL_S), ("cold", 0), ("payloads", 0), ("packages", 0),
                              ("deep_sync", 0))])
        topo = cls(workdir, redis, pg, simulator, sim_config, settings, engine, sessions, token, tenants)
        for role in ROLES:
            topo.start(role)
        return topo

    # -- processes ---------------------------------------------------------------------------

    def start(self, role: str) -> None:
        self.stopped.discard(role)
        self.procs[role] = integramon(self.settings, *ROLES[role], log=self.workdir / f"{role}.log")

    def start_standby(self) -> subprocess.Popen[bytes]:
        """A second controller (own data folder, so its liveness file is its own)."""
        settings = dataclasses.replace(self.settings, data_dir=self.workdir / "data-standby")
        return integramon(settings, "controller", log=self.workdir / "controller-standby.log")

    def set_cpi_faults(self, body: dict[str, Any] | None) -> None:
        for name in self.tenants.values():
            url = f"{self.simulator.url}/_sim/tenants/{name}/faults"
            reply = httpx.delete(url) if body is None else httpx.post(url, json=body)
            reply.raise_for_status()

    def dead(self) -> list[str]:
        """Processes that exited by themselves (a role the test stopped on purpose does not count)."""
        return sorted(role for role, proc in self.procs.items() if proc.poll() is not None and role not in self.stopped)

    def revive(self, scenario: str) -> list[str]:
        """Restart every process that exited (recorded: the last test asserts there were none)."""
        dead = self.dead()
        for role in dead:
            self.revived.append(f"{role} (exit {self.procs[role].returncode}) after {scenario}")
            self.start(role)
        return dead

    def stop(self, role: str, timeout: float = 20.0) -> int:
        self.stopped.add(role)
        proc = self.procs[role]
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        return int(proc.returncode)

    def close(self) -> None:
        for role in list(self.procs):
            self.stop(role, timeout=10)
        self.simulator.stop()
        self.engine.dispose()
        self.redis.kill()
        self.pg.remove()

    def log_tail(self, role: str, lines: int = 30) -> str:
        path = self.workdir / f"{role}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "integramon", *args], env=process_env(self.settings),
                              capture_output=True, text=True, timeout=60)

    # -- API ---------------------------------------------------------------------------------

    def api(self, path: str, *, auth: bool = True) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        return httpx.get(f"http://127.0.0.1:{self.settings.api_port}{path}", headers=headers, timeout=10)

    def api_status(self, path: str, *, auth: bool = True) -> int:
        try:
            return self.api(path, auth=auth).status_code
        except httpx.HTTPError:
            return 0

    # -- database views ----------------------------------------------------------------------

    def sql(self, query: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(query), params).all())

    def stored_per_tenant(self) -> dict[int, int]:
        with self.sessions() as session:
            rows = session.execute(select(MessageLog.tenant_id, func.count()).group_by(MessageLog.tenant_id)).all()
        counts = {tenant: 0 for tenant in self.tenants}
        counts.update({int(t): int(n) for t, n in rows})
        return counts

    def hot_watermarks(self) -> dict[int, datetime]:
        with self.sessions() as session:
            rows = session.execute(select(IngestWatermark.tenant_id, IngestWatermark.position)
                                   .where(IngestWatermark.kind == "hot")).all()
        return {int(t): p for t, p in rows if p is not None}

    def stored_guids(self, tenant_id: int) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(select(MessageLog.message_guid).where(MessageLog.tenant_id == tenant_id)))

    def wait(self, check: Callable[[], object], timeout: float, what: str, interval: float = 0.2) -> float:
        """Seconds until ``check`` held (a database or Redis error counts as not yet)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                if check():
                    return time.monotonic() - started
            except Exception:  # the dependency may still be down: try again
                pass
            time.sleep(interval)
        logs = "\n".join(f"--- {role}.log\n{self.log_tail(role)}" for role in self.procs)
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\n{logs}")

    def polled_since(self, before: dict[int, int]) -> bool:
        """Every tenant has more stored message logs than in ``before``."""
        now = self.stored_per_tenant()
        return all(now[t] > before[t] for t in self.tenants)

    def record(self, scenario: str, seconds: float) -> None:
        self.recovery[scenario] = round(seconds, 1)
        print(f"recovery {scenario}: {seconds:.1f} s", flush=True)
        path = self.workdir / "recovery.json"
        path.write_text(json.dumps(self.recovery, indent=1))


def _register(sessions: sessionmaker[Session], settings: Settings, simulator: SimulatorServer) -> dict[int, str]:
    box = SecretBox(settings)
    ids: dict[int, str] = {}
    with sessions() as session, session.begin():
        for endpoint in simulator.tenants():
            tenant = Tenant(name=endpoint.name, api_url=endpoint.api_url, token_url=endpoint.token_url,
                            client_id=endpoint.client_id,
                            client_secret_encrypted=box.encrypt(endpoint.client_secret))
            session.add(tenant)
            session.flush()
            ids[tenant.id] = endpoint.name
    return ids
