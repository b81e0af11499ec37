"""Running the simulator with uvicorn: in the foreground (CLI) or in a background thread (tests, demo).

``SimulatorServer`` binds port 0 by default and reports the port it got, so parallel test runs never
collide::

    with SimulatorServer(SimulatorConfig(tenants=2, seed=7)) as sim:
        t = sim.tenant("tenant1")      # .api_url, .token_url, .client_id, .client_secret
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

import uvicorn
from litestar import Litestar

from simulator.app import create_app
from simulator.config import SimulatorConfig, tenant_credentials, tenant_names

__all__ = ["SimulatorServer", "TenantEndpoint", "bind", "serve"]


@dataclass(frozen=True, slots=True)
class TenantEndpoint:
    """What a client needs to talk to one simulated tenant."""

    name: str
    api_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)


def _uvicorn_config(app: Litestar, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
        http="h11",
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket (port 0 picks a free port; read it with ``getsockname``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # accept connections into the backlog at once, before uvicorn has started
    return sock


def serve(config: SimulatorConfig, sock: socket.socket) -> None:
    """Serve on an already bound socket in the foreground until interrupted."""
    host, port = sock.getsockname()[:2]
    uvicorn.Server(_uvicorn_config(create_app(config), host, port)).run(sockets=[sock])


class SimulatorServer:
    """The simulator on a loopback port in a daemon thread; ``stop()`` (or leaving ``with``) ends it."""

    def __init__(self, config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or SimulatorConfig()
        self.host = host
        self._socket = bind(host, port)
        self.port: int = self._socket.getsockname()[1]
        self._app = create_app(self.config)
        self._server = uvicorn.Server(_uvicorn_config(self._app, host, self.port))
        self._thread = threading.Thread(target=self._run, name=f"cpi-simulator-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def tenant(self, name: str = "tenant1") -> TenantEndpoint:
        creds = tenant_credentials(self.config, name)
        return TenantEndpoint(
            name=name,
            api_url=f"{self.url}/t/{name}/api/v1",
            token_url=f"{self.url}/t/{name}/oauth/token",
            client_id=creds.client_id,
            client_secret=creds.client_secret,
        )

    def tenants(self) -> list[TenantEndpoint]:
        return [self.tenant(name) for name in tenant_names(self.config)]

    def _run(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self, timeout_s: float = 10.0) -> SimulatorServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"CPI simulator did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._app.state.sim.stopping = True
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
