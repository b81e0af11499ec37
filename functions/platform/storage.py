"""Storage snapshots: quick (planner estimates, cheap) and deep (exact sizes, object store usage).

Quick reads ``pg_class`` on PostgreSQL and counts rows on SQLite; deep asks PostgreSQL for
``pg_total_relation_size`` and exact counts, and lists the object store summing object sizes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select, table, text
from sqlalchemy.orm import Session

from core.db.dialect import is_postgres
from core.db.models import Base
from core.db.models.base import utcnow
from core.db.models.platform import StorageSnapshot
from core.queues.catalog import STORAGE_DISPATCH_TASK, STORAGE_SNAPSHOT_DEEP_TASK, STORAGE_SNAPSHOT_QUICK_TASK
from core.settings import Settings
from core.storage import open_store
from functions.platform.schedule import claim_if_due
from functions.registry import implements
from functions.runner.context import JobContext

__all__ = ["deep_sizes", "quick_sizes", "storage_dispatch_task", "storage_snapshot_deep_task",
           "storage_snapshot_quick_task"]

Sizes = dict[str, tuple[int | None, int | None]]  # object -> (rows, bytes)


def _tables() -> list[str]:
    return sorted(Base.metadata.tables)


def _count(session: Session, name: str) -> int:
    return int(session.scalar(select(func.count()).select_from(table(name))) or 0)


def quick_sizes(session: Session) -> Sizes:
    """Estimated rows and bytes per table; exact counts on SQLite, which has no estimates."""
    if not is_postgres(session):
        return {name: (_count(session, name), None) for name in _tables()}
    rows = session.execute(text(
        "select c.relname, greatest(c.reltuples, 0)::bigint, "
        "c.relpages::bigint * current_setting('block_size')::bigint "
        "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind = 'r' and n.nspname = current_schema() and c.relname = any(:names)"),
        {"names": _tables()}).all()
    return {name: (int(rows_), int(size)) for name, rows_, size in rows}


def deep_sizes(session: Session) -> Sizes:
    """Exact rows and total bytes (table + indexes + TOAST) per table, plus the whole database."""
    if not is_postgres(session):
        return {name: (_count(session, name), None) for name in _tables()}
    sizes: Sizes = {}
    for name in _tables():
        size = session.scalar(text("select pg_total_relation_size(cast(:n as regclass))"), {"n": name})
        sizes[name] = (_count(session, name), int(size or 0))
    total = session.scalar(text("select pg_database_size(current_database())"))
    sizes["database"] = (None, int(total or 0))
    return sizes


def object_store_usage(settings: Settings) -> tuple[int, int]:
    """(objects, bytes) in the archive store, by listing and asking each object's size."""
    store = open_store(settings)
    keys = store.list_keys("")
    return len(keys), sum(store.size(key) for key in keys)


def _store(session: Session, kind: str, sizes: Sizes) -> None:
    taken = utcnow()
    session.add_all([StorageSnapshot(taken_at=taken, kind=kind, object_name=name, row_count=rows, size_bytes=size)
                     for name, (rows, size) in sorted(sizes.items())])


@implements(STORAGE_SNAPSHOT_QUICK_TASK)
async def storage_snapshot_quick_task(ctx: JobContext) -> dict[str, Any]:
    """Store estimated sizes of every table."""
    def run() -> Sizes:
        with ctx.resources.sessions.begin() as session:
            sizes = quick_sizes(session)
            _store(session, "quick", sizes)
            return sizes

    sizes = await asyncio.to_thread(run)
    return {"tables": len(sizes), "rows_estimate": sum(r or 0 for r, _ in sizes.values())}


@implements(STORAGE_SNAPSHOT_DEEP_TASK)
async def storage_snapshot_deep_task(ctx: JobContext) -> dict[str, Any]:
    """Store exact table sizes and the object store's usage."""
    def run() -> Sizes:
        with ctx.resources.sessions.begin() as session:
            sizes = deep_sizes(session)
            objects, size = object_store_usage(ctx.settings)
            sizes["object_store"] = (objects, size)
            _store(session, "deep", sizes)
            return sizes

    sizes = await asyncio.to_thread(run)
    return {"objects": len(sizes), "database_bytes": sizes.get("database", (None, None))[1],
            "object_store_bytes": sizes["object_store"][1]}


@implements(STORAGE_DISPATCH_TASK)
async def storage_dispatch_task(ctx: JobContext, deep: bool | None = None) -> dict[str, Any]:
    """Enqueue the quick snapshot, and the deep one when ``storage_deep`` is due (or ``deep`` says so).

    The controller enqueues this task at the ``storage`` metric's interval.
    """
    wanted = [STORAGE_SNAPSHOT_QUICK_TASK]
    if deep or (deep is None and await asyncio.to_thread(claim_if_due, ctx.resources.sessions, "storage_deep")):
        wanted.append(STORAGE_SNAPSHOT_DEEP_TASK)
    enqueued = [spec.name for spec in wanted
                if await ctx.resources.enqueuer.enqueue(spec, {}, dedup_key=spec.name)]
    return {"enqueued": enqueued}
