"""``integramon archive restore --tenant T --day D``: read an archived tenant-day back, with a progress bar;
``integramon archive resign``: sign old manifests again with the newest key (functions.archive.resign)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from sqlalchemy import select
from tqdm import tqdm

from core.db.models.tenants import Tenant
from core.db.session import create_db_engine, make_session_factory
from core.errors import ConfigError
from core.resources import check_database
from core.settings import Settings
from core.signing import Signer
from core.storage import open_store
from functions.archive.bundle import MANIFEST_PURPOSE
from functions.archive.resign import manifest_keys, resign_manifests
from functions.archive.restore import load_archive, restore_records

__all__ = ["register"]


def register(subparsers: Any) -> None:
    archive = subparsers.add_parser("archive", help="work with archived message logs")
    actions = archive.add_subparsers(dest="archive_command", metavar="ACTION", required=True)
    restore = actions.add_parser("restore", help="read an archived tenant-day back into the database")
    restore.add_argument("--tenant", required=True, help="tenant id or name")
    restore.add_argument("--day", required=True, help="day to restore, YYYY-MM-DD (UTC)")
    restore.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
    restore.set_defaults(handler=_restore)
    resign = actions.add_parser("resign", help="sign archive manifests again with the newest INTEGRAMON_SECRET_KEY")
    resign.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
    resign.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
    resign.set_defaults(handler=_resign)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--day {value!r} is not a date (YYYY-MM-DD)") from None


def _tenant_id(session: Any, value: str) -> int:
    if value.isdigit() and int(value) > 2**31 - 1:  # beyond any id: the database would refuse the number
        raise ConfigError(f"--tenant {value!r}: no such tenant")
    query = select(Tenant.id).where(Tenant.id == int(value)) if value.isdigit() else \
        select(Tenant.id).where(Tenant.name == value)
    found = session.scalar(query)
    if found is None:
        raise ConfigError(f"--tenant {value!r}: no such tenant")
    return int(found)


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    day = _day(args.day)
    engine = create_db_engine(settings.resolved_database_url)
    try:
        check_database(engine)
        sessions = make_session_factory(engine)
        with sessions() as session:
            tenant_id = _tenant_id(session, args.tenant)
        records = load_archive(open_store(settings), tenant_id, day, Signer(settings, MANIFEST_PURPOSE))
        with tqdm(total=len(records), unit="msg", desc=f"restore {day}", disable=args.no_progress,
                  file=sys.stderr) as bar:
            result = restore_records(sessions, tenant_id, records, bar.update, day=day)
    finally:
        engine.dispose()
    print(f"restored {result.restored} of {result.archived} archived messages of tenant {tenant_id} on {day} "
          f"({result.already_present} already present)")
    return 0


def _resign(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when every manifest is signed with the newest key (an older one can then go), 1 when
    some manifest was refused (named: unsigned, altered or another installation's)."""
    store = open_store(settings)
    keys = manifest_keys(store)
    with tqdm(total=len(keys), unit="manifest", desc="resign", disable=args.no_progress, file=sys.stderr) as bar:
        report = resign_manifests(store, Signer(settings, MANIFEST_PURPOSE), keys, dry_run=args.dry_run,
                                  progress=bar.update)
    print(f"{report.manifests} manifest(s): {report.newest} already signed with the newest key, {report.resigned} "
          f"{'to sign' if args.dry_run else 'signed'} again, {report.refused} refused")
    if report.refused:
        more = ", ..." if report.refused > len(report.refused_keys) else ""
        print(f"refused (unsigned, unreadable, or no configured key verifies them; left as they are): "
              f"{', '.join(report.refused_keys)}{more}")
        return 1
    return 0
