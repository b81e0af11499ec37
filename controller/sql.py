"""Small SQL helpers the loops share: a dialect-aware bulk upsert.

On PostgreSQL the rows travel as one array per column and are unnested server-side: one statement
and one round trip for any batch size, with no multi-row VALUES list to compile (which costs far
more than the database work for tens of thousands of rows).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Table, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from core.db.dialect import is_postgres

__all__ = ["upsert"]

CHUNK = 2000  # rows per statement on SQLite (its bound-parameter limit)


def upsert(session: Session, model: Any, rows: list[dict[str, Any]], keys: list[str], columns: list[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET columns (PostgreSQL and SQLite).

    A batch must name each key once: PostgreSQL cannot update a row twice in one statement and SQLite
    would silently keep the last copy, so a repeat is refused up front (ValueError) on both.
    """
    if not rows:
        return
    _refuse_repeated_keys(rows, keys)
    if is_postgres(session):
        _pg_upsert(session, model.__table__, rows, keys, columns)
        return
    for start in range(0, len(rows), CHUNK):
        stmt = sqlite.insert(model).values(rows[start:start + CHUNK])
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in columns})
        session.execute(stmt)


def _refuse_repeated_keys(rows: list[dict[str, Any]], keys: list[str]) -> None:
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        key = tuple(row[k] for k in keys)
        if key in seen:
            raise ValueError(f"upsert batch names the key {dict(zip(keys, key, strict=True))} twice")
        seen.add(key)


def _pg_upsert(session: Session, table: Table, rows: list[dict[str, Any]], keys: list[str],
               columns: list[str]) -> None:
    names = list(rows[0])
    dialect = session.get_bind().dialect
    arrays: list[str] = []
    selects: list[str] = []
    params: dict[str, Any] = {}
    for i, name in enumerate(names):
        column = table.c[name]
        if isinstance(column.type, JSON):
            arrays.append(f"CAST(:p{i} AS text[])")
            selects.append(f"c{i}::jsonb")
            params[f"p{i}"] = [json.dumps(r[name]) for r in rows]
        else:
            arrays.append(f"CAST(:p{i} AS {column.type.compile(dialect=dialect)}[])")
            selects.append(f"c{i}")
            params[f"p{i}"] = [r[name] for r in rows]
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    sql = (f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(selects)} "
           f"FROM unnest({', '.join(arrays)}) AS u({aliases}) "
           f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}")
    session.execute(text(sql), params)
