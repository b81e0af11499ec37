"""``integramon simulator``: run the CPI simulator in the foreground and print each tenant's credentials."""

from __future__ import annotations

import argparse
from typing import Any

from core.errors import ConfigError
from core.settings import Settings
from simulator.config import SimulatorConfig, tenant_credentials, tenant_names
from simulator.server import bind, serve

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("simulator", help="run the CPI tenant simulator (stands in for SAP CPI)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=18080, help="TCP port (0 = any free port)")
    parser.add_argument("--tenants", type=int, default=2, help="number of simulated tenants")
    parser.add_argument("--seed", type=int, default=1, help="seed of the deterministic data")
    parser.add_argument("--rate", type=float, default=5.0, help="new messages per second and tenant")
    parser.add_argument("--failure-ratio", type=float, default=0.05, help="share of new messages that FAIL")
    parser.add_argument("--history-days", type=int, default=3, help="days of past messages")
    parser.add_argument("--history-per-day", type=int, default=2000, help="past messages per day and tenant")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be 0..65535, got {args.port}")
    try:
        config = SimulatorConfig(
            tenants=args.tenants,
            seed=args.seed,
            rate=args.rate,
            failure_ratio=args.failure_ratio,
            history_days=args.history_days,
            history_per_day=args.history_per_day,
        )
    except ValueError as exc:
        raise ConfigError(f"simulator: {exc}") from exc
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        raise ConfigError(f"simulator: cannot bind {args.host}:{args.port}: {exc.strerror}") from exc
    root = f"http://{args.host}:{sock.getsockname()[1]}"
    print(f"CPI simulator on {root} ({config.tenants} tenants, seed {config.seed}, {config.rate:g} msg/s)")
    for name in tenant_names(config):
        creds = tenant_credentials(config, name)
        print(
            f"  {name}: api_url={root}/t/{name}/api/v1 token_url={root}/t/{name}/oauth/token "
            f"client_id={creds.client_id} client_secret={creds.client_secret}",
            flush=True,
        )
    serve(config, sock)
    return 0
