"""``integramon secrets rotate``: seal every stored secret again with the newest INTEGRAMON_SECRET_KEY.

The procedure (docs/security.md, "Rotating the secret key"): put the new key first in
``INTEGRAMON_SECRET_KEY`` everywhere and roll the processes, run this, run ``integramon archive
resign``, then drop the old key. This command tells whether that last step is safe: it exits 0 only
when no stored value needs an older key any more, 1 when some value could not be opened (it names
them; they must be saved again), and it writes one audit entry per pass that changed something.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tqdm import tqdm

from admin_api.audit.services import audit
from admin_api.context import Principal
from core.db.session import create_db_engine, make_session_factory
from core.key_rotation import SEALED_COLUMNS, ColumnReport, count_sealed, reseal_column
from core.resources import check_database
from core.secrets import SecretBox
from core.settings import Settings

__all__ = ["register"]


def register(subparsers: Any) -> None:
    secrets = subparsers.add_parser("secrets", help="work with the secrets stored encrypted")
    actions = secrets.add_subparsers(dest="secrets_command", metavar="ACTION", required=True)
    rotate = actions.add_parser("rotate", help="seal every stored secret again with the newest INTEGRAMON_SECRET_KEY")
    rotate.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
    rotate.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
    rotate.set_defaults(handler=_rotate)


def _rotate(args: argparse.Namespace, settings: Settings) -> int:
    box = SecretBox(settings)
    engine = create_db_engine(settings.resolved_database_url)
    try:
        check_database(engine)
        sessions = make_session_factory(engine)
        total = sum(count_sealed(sessions, column) for column in SEALED_COLUMNS)
        with tqdm(total=total, unit="value", desc="secrets", disable=args.no_progress, file=sys.stderr) as bar:
            reports = [reseal_column(sessions, box, column, dry_run=args.dry_run, progress=bar.update)
                       for column in SEALED_COLUMNS]
        changed = sum(r.resealed for r in reports)
        if changed and not args.dry_run:
            with sessions() as session, session.begin():
                audit(session, Principal("cli", "admin"), "secrets.rotate", None,
                      {r.label: {"resealed": r.resealed, "unreadable": r.unreadable} for r in reports})
    finally:
        engine.dispose()
    for report in reports:
        print(_line(report, args.dry_run))
    unreadable = sum(r.unreadable for r in reports)
    if unreadable:
        print(f"{unreadable} stored value(s) cannot be opened with any configured key: save them again "
              "(tenant secret, schedule arguments or alert channels through the API; ledger arguments only "
              "matter for replaying those runs) before dropping the key that sealed them")
        return 1
    if args.dry_run:
        print(f"dry run: {changed} value(s) would be sealed again with the newest key")
    elif box.key_count > 1:
        print("every stored secret is sealed with the newest key; after `integramon archive resign` the "
              "older key(s) can be removed from INTEGRAMON_SECRET_KEY")
    else:
        print("every stored secret is sealed with the only configured key")
    return 0


def _line(report: ColumnReport, dry_run: bool) -> str:
    parts = [f"{report.sealed} sealed", f"{report.newest} already with the newest key",
             f"{report.resealed} {'to seal' if dry_run else 'sealed'} again"]
    if report.saved_meanwhile:
        parts.append(f"{report.saved_meanwhile} saved by someone else meanwhile (left as saved)")
    if report.unreadable:
        keys = ", ".join(str(k) for k in report.unreadable_keys)
        more = ", ..." if report.unreadable > len(report.unreadable_keys) else ""
        parts.append(f"{report.unreadable} that no configured key opens (id {keys}{more})")
    return f"{report.label}: " + ", ".join(parts)
