"""integramon-healthcheck (infra/image/healthcheck.py): the image's one HEALTHCHECK finds the role
the container runs and probes it. Probes run for real against local servers and processes."""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType

import pytest

from tests.infra.toolchain import REPO
from tests.ports import free_port


def load_healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("integramon_healthcheck", REPO / "infra/image/healthcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


hc = load_healthcheck()


class LiveHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health/live" else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api_port() -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), LiveHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("argv", "expected"), [
    (["/opt/venv/bin/python", "/opt/venv/bin/integramon", "worker", "--group", "light"],
     ["worker", "--group", "light"]),
    (["/sbin/docker-init", "--", "integramon", "api"], ["api"]),
    (["python", "-m", "integramon", "controller"], ["controller"]),
    (["/opt/venv/bin/python", "/opt/venv/bin/integramon", "worker-health", "--group", "light"], None),
    (["/opt/venv/bin/python", "/opt/venv/bin/integramon", "controller", "--status"], None),
    (["/opt/venv/bin/python", "/opt/venv/bin/integramon", "controller", "--live"], None),
    (["/opt/venv/bin/python", "/usr/local/bin/integramon-healthcheck"], None),
    (["redis-server"], None),
])
def test_recognises_role_processes_only(argv: list[str], expected: list[str] | None) -> None:
    assert hc.integramon_args(argv) == expected


def test_finds_the_oldest_role_process_in_proc(tmp_path: Path) -> None:
    for pid, argv in {"1": ["/sbin/docker-init", "--", "integramon", "worker", "--queue", "messagelog_read"],
                      "12": ["/opt/venv/bin/python", "/opt/venv/bin/integramon", "worker-health", "--group", "x"],
                      "7": ["/opt/venv/bin/python", "/opt/venv/bin/integramon", "worker", "--queue", "messagelog_read"]
                      }.items():
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (tmp_path / "self").mkdir()
    assert hc.find_role_args(tmp_path) == ["worker", "--queue", "messagelog_read"]
    assert hc.find_role_args(tmp_path / "self") is None


def test_probe_per_role() -> None:
    env = {"INTEGRAMON_API_PORT": "8123"}
    assert hc.probe_for(["worker", "--group", "medium"], env) == hc.Probe(
        "command", ("integramon", "worker-health", "--group", "medium"))
    # a single-queue worker proves itself through the heartbeat of its queue's group
    assert hc.probe_for(["worker", "--queue", "messagelog_read"], env).target[-1] == "light"
    assert hc.probe_for(["controller"], env) == hc.Probe("command", ("integramon", "controller", "--live"))
    assert hc.probe_for(["api"], env) == hc.Probe("http", ("http://127.0.0.1:8123/health/live",))
    assert hc.probe_for(["simulator", "--port", "9001", "--tenants", "1"], env) == hc.Probe(
        "http", ("http://127.0.0.1:9001/_sim/health",))
    assert hc.probe_for(["simulator"], env).target == ("http://127.0.0.1:18080/_sim/health",)
    assert hc.probe_for(["worker", "--all-groups"], env).target[-1] == "light"
    assert hc.probe_for(["migrate"], env) == hc.Probe("none")
    with pytest.raises(ValueError, match="--group, --queue or --all-groups"):
        hc.probe_for(["worker"], env)


def test_probes_run_for_real(api_port: int) -> None:
    assert hc.run_probe(hc.Probe("http", (f"http://127.0.0.1:{api_port}/health/live",)))
    assert not hc.run_probe(hc.Probe("http", (f"http://127.0.0.1:{api_port}/other",)))
    assert not hc.run_probe(hc.Probe("http", (f"http://127.0.0.1:{free_port()}/health/live",)))
    assert hc.run_probe(hc.Probe("command", (sys.executable, "-c", "raise SystemExit(0)")))
    assert not hc.run_probe(hc.Probe("command", (sys.executable, "-c", "raise SystemExit(1)")))
    assert not hc.run_probe(hc.Probe("command", ("/nonexistent/integramon",)))


def test_exit_status_follows_dockers_contract(monkeypatch: pytest.MonkeyPatch, api_port: int) -> None:
    monkeypatch.setattr(hc, "find_role_args", lambda: ["api", "--port", str(api_port)])
    assert hc.main() == 0
    monkeypatch.setattr(hc, "find_role_args", lambda: ["api", "--port", str(free_port())])
    assert hc.main() == 1
    monkeypatch.setattr(hc, "find_role_args", lambda: None)
    assert hc.main() == 1
