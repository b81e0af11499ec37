"""``integramon api`` (serve the admin API and console with uvicorn), ``integramon token create|list|revoke``
and ``integramon secrets rotate`` (admin_api.secrets_cli)."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn
from sqlalchemy.orm import Session

from admin_api.app import create_app
from admin_api.auth.services import MAX_EXPIRY_DAYS, ROLES, TokenNotFound, create_token, list_tokens, revoke_token
from admin_api.metrics.prometheus import MULTIPROC_ENV
from admin_api.secrets_cli import register as register_secrets
from core.db.migrate import require_current_schema_at
from core.db.session import create_db_engine, make_session_factory
from core.errors import ConfigError, ServiceUnavailable
from core.heap import settle_heap
from core.resources import check_database
from core.settings import Settings

__all__ = ["register"]

T = TypeVar("T")


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
    create.add_argument("--expires-in", default=None, metavar="DAYS",
                        help="days until the token stops working (default INTEGRAMON_TOKEN_DEFAULT_DAYS, 90)")
    create.set_defaults(handler=_create_token)
    listing = token_sub.add_parser("list", help="list tokens (name, role, expiry, state; never the token)")
    listing.set_defaults(handler=_list_tokens)
    revoke = token_sub.add_parser("revoke", help="revoke a token and end its console sessions")
    revoke.add_argument("name", help="token name (see token list)")
    revoke.set_defaults(handler=_revoke_token)
    register_secrets(subparsers)


def _days(raw: str) -> int:
    text = raw.strip().lower().removesuffix("d")
    if not text.isdigit() or not 1 <= int(text) <= MAX_EXPIRY_DAYS:
        raise ConfigError(f"--expires-in must be a number of days from 1 to {MAX_EXPIRY_DAYS}, not {raw!r}")
    return int(text)


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
                    log_level=settings.log_level.lower(), access_log=False, **_proxy_options(settings))
    else:
        app = create_app(settings)
        settle_heap()  # see core.heap
        uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), access_log=False,
                    **_proxy_options(settings))
    return 0


def _proxy_options(settings: Settings) -> dict[str, Any]:
    """Trust X-Forwarded-Proto/-For from the load balancers in INTEGRAMON_FORWARDED_ALLOW_IPS, so a
    request that reached the balancer over HTTPS counts as HTTPS (Secure cookie, HSTS) and the
    failed-sign-in limit sees the real client address."""
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


def _in_session(settings: Settings, work: Callable[[Session], T]) -> T:
    engine = create_db_engine(settings.resolved_database_url)
    try:
        check_database(engine)
        with make_session_factory(engine)() as session, session.begin():
            return work(session)
    finally:
        engine.dispose()


def _prometheus_multiprocess_dir(settings: Settings) -> None:
    folder = settings.data_dir / "prometheus"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(folder)


def _create_token(args: argparse.Namespace, settings: Settings) -> int:
    name = args.name or f"{args.role}-{secrets.token_hex(3)}"
    days = _days(args.expires_in) if args.expires_in is not None else settings.token_default_days
    token = _in_session(settings, lambda s: create_token(s, name, args.role, days))
    print(f"token {name!r} ({args.role}) created, valid for {days} days; it is shown only this once:")
    print(token)
    return 0


def _list_tokens(args: argparse.Namespace, settings: Settings) -> int:
    rows = _in_session(settings, list_tokens)
    print(f"{'NAME':<32} {'ROLE':<7} {'STATE':<8} {'EXPIRES':<26} CREATED")
    for row in rows:
        state = "active" if row.active else ("revoked" if row.revoked_at else "expired")
        expires = row.expires_at.isoformat() if row.expires_at else "never"
        print(f"{row.name:<32} {row.role:<7} {state:<8} {expires:<26} {row.created_at.isoformat()}")
    return 0


def _revoke_token(args: argparse.Namespace, settings: Settings) -> int:
    try:
        result = _in_session(settings, lambda s: revoke_token(s, args.name))
    except TokenNotFound as exc:
        raise ConfigError(str(exc)) from None
    print(f"token {result.name!r} revoked at {result.revoked_at.isoformat()}; its console sessions are ended")
    return 0


