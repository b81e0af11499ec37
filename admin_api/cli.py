"""``integramon api`` (serve the admin API and console with uvicorn) and ``integramon token create``."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
from typing import Any

import uvicorn

from admin_api.app import create_app
from admin_api.auth.services import ROLES, create_token
from admin_api.metrics.prometheus import MULTIPROC_ENV
from core.db.migrate import require_current_schema_at
from core.db.session import create_db_engine, make_session_factory
from core.errors import ConfigError, ServiceUnavailable
from core.settings import Settings

__all__ = ["register"]


def register(subparsers: Any) -> None:
    api = subparsers.add_parser("api", help="serve the admin API and console (uvicorn)")
    api.add_argument("--host", help="bind address (default INTEGRAMON_API_HOST)")
    api.add_argument("--port", type=int, help="port (default INTEGRAMON_API_PORT)")
    api.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    api.set_defaults(handler=_serve)
    token = subparsers.add_parser("token", help="manage admin API tokens")
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_sub.add_parser("create", help="create a token and print it once")
    create.add_argument("--role", choices=ROLES, required=True, help="viewer (read) or admin (read and change)")
    create.add_argument("--name", help="name shown in the audit log (default: <role>-<random>)")
    create.set_defaults(handler=_create_token)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.api_host
    port = args.port or settings.api_port
    if args.workers < 1 or not 0 < port < 65536:
        raise ConfigError("--workers must be at least 1 and --port between 1 and 65535")
    try:
        require_current_schema_at(settings.resolved_database_url)  # one clear line, not a lifespan traceback
    except ServiceUnavailable as exc:  # a database outage is ridden out: serve 503s until it returns
        print(f"integramon api: {exc}; starting anyway, database endpoints answer 503 until it is back",
              file=sys.stderr)
    if args.workers > 1:
        # Each worker process builds its own app from the environment (the settings are the same); their
        # request metrics meet in prometheus_client's multiprocess folder, emptied at every start.
        _prometheus_multiprocess_dir(settings)
        uvicorn.run("admin_api.asgi:build", factory=True, host=host, port=port, workers=args.workers,
                    log_level=settings.log_level.lower(), access_log=False)
    else:
        uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower(),
                    access_log=False)
    return 0


def _prometheus_multiprocess_dir(settings: Settings) -> None:
    folder = settings.data_dir / "prometheus"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(folder)


def _create_token(args: argparse.Namespace, settings: Settings) -> int:
    name = args.name or f"{args.role}-{secrets.token_hex(3)}"
    engine = create_db_engine(settings.resolved_database_url)
    try:
        sessions = make_session_factory(engine)
        with sessions() as session, session.begin():
            token = create_token(session, name, args.role)
    finally:
        engine.dispose()
    print(f"token {name!r} ({args.role}) created; it is shown only this once:")
    print(token)
    return 0


