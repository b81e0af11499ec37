"""Retry policy: how many times a function is retried, how long it waits, and what never retries."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped; ``permanent`` names error classes never retried.

    ``max_retries`` counts retries after the first attempt, so ``max_retries=0`` runs a job once
    (the seed's ``archive_cpi_day``).
    """

    max_retries: int = 3
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0
    permanent: tuple[str, ...] = ("PermanentJobError", "CatalogError", "ValueError", "TypeError", "KeyError")

    @property
    def max_attempts(self) -> int:
        """Total tries including the first one."""
        return self.max_retries + 1

    def is_permanent(self, exc: BaseException) -> bool:
        """True when ``exc`` (or one of its base classes) is listed as permanent."""
        names = {cls.__name__ for cls in type(exc).__mro__}
        if "RetryableJobError" in names:
            return False
        return bool(names.intersection(self.permanent))

    def delay_s(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before the try after ``attempt`` (1-based): half fixed, half jittered."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * float(2 ** max(attempt - 1, 0)))
        draw: float = (rng or random).random()
        return ceiling / 2 + draw * ceiling / 2

    def as_dict(self) -> dict[str, object]:
        """Plain form for ``integramon catalog --json`` and the admin API."""
        return {
            "max_retries": self.max_retries,
            "backoff_base_s": self.backoff_base_s,
            "backoff_max_s": self.backoff_max_s,
            "permanent": list(self.permanent),
        }
