"""Statements whose SQLAlchemy construct depends on the database (PostgreSQL or SQLite).

``INSERT … ON CONFLICT DO NOTHING`` is the same SQL on both, but SQLAlchemy keeps it in each dialect's own
``insert``; callers build it here instead of choosing the dialect module themselves, so the statement has
one shape and one contract test (``tests/integration/dialects/test_insert_ignoring.py``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

__all__ = ["insert_ignoring", "is_postgres"]


def is_postgres(session: Session) -> bool:
    """True on PostgreSQL, False on SQLite (the two supported databases): the one test every fork makes."""
    return session.get_bind().dialect.name == "postgresql"


def insert_ignoring(session: Session, model: Any, index_elements: list[str]) -> Insert:
    """``INSERT INTO model … ON CONFLICT (index_elements) DO NOTHING`` for the session's database: rows
    whose key already exists (or repeats within the batch) are skipped, the others inserted."""
    make = postgresql.insert if is_postgres(session) else sqlite.insert
    return make(model).on_conflict_do_nothing(index_elements=index_elements)
