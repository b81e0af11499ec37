"""The typed context every job function receives as its first argument (instead of arq's dict)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from core.queues.catalog import FunctionSpec
from core.queues.keys import progress_key
from core.resources import Resources
from core.settings import Settings

__all__ = ["JobContext", "progress_key"]


@dataclass(slots=True)
class JobContext:
    """What a job may use: settings, shared connections, and facts about this attempt."""

    resources: Resources
    job_id: str
    spec: FunctionSpec
    attempt: int
    worker_id: str

    @property
    def settings(self) -> Settings:
        return self.resources.settings

    async def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        """Publish progress of long work; the console shows it on the job page."""
        payload = {"done": done, "total": total, "message": message, "at": time.time()}
        await self.resources.redis.set(progress_key(self.job_id), json.dumps(payload), ex=3600)

    def log_extra(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "function": self.spec.name, "attempt": self.attempt}
