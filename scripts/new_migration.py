"""Autogenerate a new migration branch off the foundation revision.

Usage: .venv/bin/python scripts/new_migration.py REV_ID "what it adds"

A scratch SQLite database is migrated to every current head first, so the new revision contains
only what the models add beyond the existing migrations. Read and tidy the file it writes.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from core.db.migrate import alembic_config, upgrade

FOUNDATION = "0001"


def main() -> None:
    rev_id, message = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'scratch.db'}"
        upgrade(url)
        cfg = alembic_config(url)
        cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
        command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id, head=FOUNDATION, splice=True)


if __name__ == "__main__":
    main()
