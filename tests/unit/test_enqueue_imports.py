"""Enqueue on PostgreSQL runs without SQLAlchemy: the ORM (used for SQLite) is imported only when used,
so a process that enqueues against PostgreSQL does not pay for loading it (start-up time and memory)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from core.queues.enqueue import Enqueuer
from core.queues.pg_ledger import PgLedgerWriter
loaded = sorted(m for m in sys.modules if m == "sqlalchemy" or m.startswith("sqlalchemy."))
print(len(loaded))
"""


def test_the_postgresql_enqueue_path_does_not_import_sqlalchemy() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "0", out.stderr
