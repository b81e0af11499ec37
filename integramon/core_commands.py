"""Sub-commands that only need the core: ``migrate`` and ``catalog``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from core.db.migrate import AppRole, upgrade
from core.queues.catalog import catalog_as_dict, validate
from core.settings import Settings

__all__ = ["register"]


def register(subparsers: Any) -> None:
    migrate = subparsers.add_parser("migrate", help="apply the database migrations")
    migrate.set_defaults(handler=_migrate)
    catalog = subparsers.add_parser("catalog", help="print the queue catalog")
    catalog.add_argument("--json", action="store_true", help="print as JSON")
    catalog.set_defaults(handler=_catalog)
    dev = subparsers.add_parser("dev", help="run everything with embedded defaults (all-in-one mode)")
    dev.set_defaults(handler=_dev)


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    role = AppRole(settings.db_app_role, settings.db_app_password) if settings.db_app_role else None
    upgrade(settings.resolved_database_url, app_role=role, settings=settings)
    print("database migrated" + (f"; role {role.name} has data rights" if role else ""))
    return 0


def _catalog(args: argparse.Namespace, settings: Settings) -> int:
    validate()
    data = catalog_as_dict()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    profiles = data["profiles"]
    print(f"{'group':32} {'safe':>4} {'bal':>4} {'fast':>4}  queues")
    for group in data["groups"]:
        name = group["name"]
        print(f"{name:32} {profiles['safe'][name]:>4} {profiles['balanced'][name]:>4} "
              f"{profiles['fast'][name]:>4}  {', '.join(group['queues'])}")
    return 0


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    from integramon.devmode import run_dev

    return run_dev(settings)
