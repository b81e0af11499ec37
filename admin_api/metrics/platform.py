"""Platform time series for the console: host metrics, admin API request rates and storage sizes
(written by the platform-operations functions; read here)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_api.metrics.schemas import ApiPoint, HostPoint, PlatformSeries, StorageRow
from core.db.models.platform import ApiMetricSample, HostMetricSample, StorageSnapshot

__all__ = ["platform_series"]

MAX_POINTS = 500
TOP_ROUTES = 6
T = TypeVar("T")


def _thin(points: list[T]) -> list[T]:
    step = max(1, math.ceil(len(points) / MAX_POINTS))
    return points[::step]


def _hosts(session: Session, since: datetime) -> dict[str, list[HostPoint]]:
    stmt = (select(HostMetricSample).where(HostMetricSample.taken_at >= since)
            .order_by(HostMetricSample.taken_at).limit(MAX_POINTS * 20))
    hosts: dict[str, list[HostPoint]] = {}
    for s in session.scalars(stmt):
        hosts.setdefault(s.host, []).append(HostPoint(
            at=s.taken_at, cpu_percent=s.cpu_percent, memory_percent=s.memory_percent,
            disk_percent=s.disk_percent, load_1m=s.load_1m))
    return {host: _thin(points) for host, points in hosts.items()}


def _api(session: Session, since: datetime) -> dict[str, list[ApiPoint]]:
    busiest = [route for (route,) in session.execute(
        select(ApiMetricSample.route).where(ApiMetricSample.taken_at >= since)
        .group_by(ApiMetricSample.route).order_by(func.sum(ApiMetricSample.requests).desc()).limit(TOP_ROUTES))]
    if not busiest:
        return {}
    stmt = (select(ApiMetricSample).where(ApiMetricSample.taken_at >= since, ApiMetricSample.route.in_(busiest))
            .order_by(ApiMetricSample.taken_at).limit(MAX_POINTS * TOP_ROUTES * 4))
    routes: dict[str, list[ApiPoint]] = {}
    for s in session.scalars(stmt):
        routes.setdefault(s.route, []).append(ApiPoint(at=s.taken_at, requests=s.requests, errors=s.errors,
                                                       avg_ms=s.avg_ms))
    return {route: _thin(points) for route, points in routes.items()}


def _storage(session: Session) -> list[StorageRow]:
    """The newest snapshot of every object (table or object store)."""
    newest = (select(StorageSnapshot.object_name, func.max(StorageSnapshot.taken_at).label("at"))
              .group_by(StorageSnapshot.object_name).subquery())
    stmt = (select(StorageSnapshot).join(newest, (StorageSnapshot.object_name == newest.c.object_name)
                                         & (StorageSnapshot.taken_at == newest.c.at))
            .order_by(StorageSnapshot.size_bytes.desc().nulls_last(), StorageSnapshot.object_name))
    return [StorageRow(object=s.object_name, kind=s.kind, rows=s.row_count, size_bytes=s.size_bytes, at=s.taken_at)
            for s in session.scalars(stmt)]


def platform_series(session: Session, since: datetime) -> PlatformSeries:
    """Host metrics per host, API requests per busiest route, and the newest storage sizes."""
    return PlatformSeries(since=since, hosts=_hosts(session, since), api=_api(session, since),
                          storage=_storage(session))
