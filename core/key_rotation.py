"""Re-encrypt every stored secret with the newest ``INTEGRAMON_SECRET_KEY``, so an older key can go.

Several keys (newest first) let a new key take over without a flag day: new values are sealed with
the first, and every key still opens what it sealed. But a key stays needed for as long as one value
sealed with it is stored, and nothing else rewrites old values (a tenant's secret is sealed again only
when someone saves it). Retiring a key, after a leak above all, therefore needs this pass: every
sealed column is read in primary-key order, each value an older key opened is sealed again with the
newest, and what no configured key opens is counted and named (such a value must be entered again;
until then the key that sealed it, if it still exists, must stay).

The pass is safe while everything runs: each row is rewritten with a compare-and-set on its old
token, so a value the API or a worker saved in the meantime (sealed with the newest key already, as
every process has the new key first before this runs) is left as it is, and the pass can be repeated
at any time. ``updated_at`` columns are not touched: the stored value is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CursorResult, TextClause, text
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ConfigError
from core.secrets import SecretBox

__all__ = ["SEALED_COLUMNS", "ColumnReport", "SealedColumn", "count_sealed", "reseal_column"]

BATCH = 500  # rows read and rewritten per transaction
UNREADABLE_NAMED = 10  # primary keys of unreadable values kept for the report, per column


@dataclass(frozen=True, slots=True)
class SealedColumn:
    """One column holding Fernet tokens: where it is and what to call it in a report."""

    label: str
    table: str
    column: str
    key: str = "id"


# Every column written with SecretBox (docs/security.md, "Secrets at rest"). A new sealed column must
# be added here, or a key rotation would leave its values behind.
SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn("tenant client secrets", "tenant", "client_secret_encrypted"),
    SealedColumn("schedule arguments", "job_config", "args_sealed"),
    SealedColumn("alert rule channels", "alert_rule", "channels_sealed"),
    SealedColumn("ledger job arguments", "worker_job_run", "args_sealed"),
)


@dataclass(slots=True)
class ColumnReport:
    """What one pass found in one column."""

    label: str
    sealed: int = 0  # values read
    newest: int = 0  # already sealed with the newest key
    resealed: int = 0  # sealed again with the newest key (with ``dry_run``: would be)
    saved_meanwhile: int = 0  # changed by someone else between our read and our write (left as saved)
    unreadable: int = 0  # no configured key opens them
    unreadable_keys: list[object] = field(default_factory=list)  # the first few of those, by primary key


def count_sealed(sessions: sessionmaker[Session], column: SealedColumn) -> int:
    """How many rows hold a value in ``column`` (for a progress bar's total)."""
    with sessions() as session:
        return int(session.execute(text(
            f"SELECT count(*) FROM {column.table} WHERE {column.column} IS NOT NULL")).scalar_one())


def reseal_column(sessions: sessionmaker[Session], box: SecretBox, column: SealedColumn, *,
                  dry_run: bool = False, progress: Callable[[int], object] | None = None,
                  batch: int = BATCH) -> ColumnReport:
    """Seal every value of ``column`` that an older key opened with the newest key (see the module
    docstring); ``progress`` is called with the number of rows of each batch done."""
    report = ColumnReport(column.label)
    read = text(f"SELECT {column.key}, {column.column} FROM {column.table} "
                f"WHERE {column.column} IS NOT NULL AND {column.key} > :after ORDER BY {column.key} LIMIT :n")
    write = text(f"UPDATE {column.table} SET {column.column} = :new "
                 f"WHERE {column.key} = :key AND {column.column} = :old")
    after: object = -1
    while True:
        with sessions() as session, session.begin():
            rows = session.execute(read, {"after": after, "n": batch}).all()
            for key, token in rows:
                report.sealed += 1
                if box.is_newest(token):
                    report.newest += 1
                    continue
                try:
                    new = box.reseal(token)
                except ConfigError:
                    report.unreadable += 1
                    if len(report.unreadable_keys) < UNREADABLE_NAMED:
                        report.unreadable_keys.append(key)
                    continue
                if dry_run or _swapped(session, write, key, token, new):
                    report.resealed += 1
                else:
                    report.saved_meanwhile += 1
        if progress is not None and rows:
            progress(len(rows))
        if len(rows) < batch:
            return report
        after = rows[-1][0]


def _swapped(session: Session, write: TextClause, key: object, old: str, new: str) -> bool:
    """Compare-and-set of one value: False when the row no longer holds ``old`` (saved meanwhile)."""
    result: CursorResult[Any] = session.execute(write, {"new": new, "key": key, "old": old})  # type: ignore[assignment]
    return result.rowcount == 1
