"""Where a worker's concurrency comes from: a fixed override, or the tuning table (re-read live)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from core.errors import CatalogError
from core.queues.catalog import DEFAULT_PROFILE, concurrency_for
from core.resources import Resources

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["ConcurrencySource"]

log = logging.getLogger(__name__)


class ConcurrencySource:
    """Computes the group's slot count; ``fixed`` (CLI flag or environment) wins over the table."""

    def __init__(self, sessions: sessionmaker[Session] | Resources, group: str, *, fixed: int | None = None,
                 profile_override: str | None = None) -> None:
        self._sessions = sessions
        self._group = group
        self._fixed = fixed
        self._profile_override = profile_override

    @property
    def is_fixed(self) -> bool:
        return self._fixed is not None

    async def current(self) -> int:
        if self._fixed is not None:
            return self._fixed
        return await asyncio.to_thread(self._read)

    def _read(self) -> int:
        """The tuning row's count (in a thread). The ORM is imported here: a worker with a fixed count
        (``--concurrency``) never reads the table, and given ``Resources`` never even makes the engine."""
        from sqlalchemy import select

        from core.db.models.tuning import WorkerTuningSettings

        sessions = self._sessions.sessions if isinstance(self._sessions, Resources) else self._sessions
        with sessions() as session:
            row = session.execute(select(WorkerTuningSettings).where(WorkerTuningSettings.id == 1)).scalar_one_or_none()
        profile = self._profile_override or (row.active_profile if row else DEFAULT_PROFILE)
        overrides = dict(row.overrides or {}) if row else {}
        try:
            return max(1, concurrency_for(self._group, profile, overrides))
        except CatalogError as exc:
            log.error("tuning row is invalid (%s); using the balanced profile", exc)
            return concurrency_for(self._group, DEFAULT_PROFILE)
