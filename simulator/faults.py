"""Fault injection per simulated tenant, set at run time through ``POST /_sim/tenants/{name}/faults``.

Settings (all optional, 0/None = off): ``latency_ms`` added to every API reply; every n-th API
request answers ``status_429_every`` → 429 (with ``Retry-After: retry_after_s`` when that is set),
``status_5xx_every`` → ``status_5xx_code`` (500 or 503), ``timeout_every`` → the reply is held
``hang_s`` seconds (longer than a sane client timeout), ``malformed_every`` → 200 with truncated JSON.
``script`` is a list of one-shot faults consumed by the next requests in order, e.g.
``["429", "503", "timeout", "malformed", "ok"]`` — the easiest way to stage an exact storm.
Counting covers API requests only (not the token endpoint, unless ``include_token`` is true).

Late arrivals: with ``late_every`` = n and ``late_delay_s`` = d, about one message in n (chosen by a
hash of its index, so the choice is stable) stays invisible -- absent from lists, counts and lookups --
until d seconds after its LogEnd, as a loaded CPI tenant persists logs with a delay. See
:mod:`simulator.late`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["Fault", "FaultSettings", "FaultState"]

SCRIPT_WORDS = frozenset({"ok", "429", "500", "503", "timeout", "malformed"})


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do to one request: ``kind`` is ok / 429 / 500 / 503 / timeout / malformed."""

    kind: str
    latency_ms: int = 0
    retry_after_s: float | None = None
    hang_s: float = 0.0


@dataclass(slots=True)
class FaultSettings:
    latency_ms: int = 0
    status_429_every: int = 0
    retry_after_s: float | None = None
    status_5xx_every: int = 0
    status_5xx_code: int = 503
    timeout_every: int = 0
    malformed_every: int = 0
    include_token: bool = False
    late_every: int = 0
    late_delay_s: int = 0

    @classmethod
    def from_json(cls, body: dict[str, Any], base: FaultSettings | None = None) -> FaultSettings:
        """Validated settings; unknown or ill-typed fields raise ValueError naming the field."""
        settings = FaultSettings()
        if base is not None:
            settings = FaultSettings(**{f.name: getattr(base, f.name) for f in fields(cls)})
        known = {f.name for f in fields(cls)}
        for key, value in body.items():
            if key == "script":
                continue
            if key not in known:
                raise ValueError(f"unknown fault field {key!r} (known: {', '.join(sorted(known | {'script'}))})")
            setattr(settings, key, _checked(key, value))
        return settings


def _checked(key: str, value: Any) -> Any:
    if key == "include_token":
        if not isinstance(value, bool):
            raise ValueError("include_token must be true or false")
        return value
    if key == "retry_after_s" and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{key} must be a number >= 0")
    if key == "status_5xx_code" and value not in (500, 502, 503, 504):
        raise ValueError("status_5xx_code must be 500, 502, 503 or 504")
    return value if key == "retry_after_s" else int(value)


@dataclass(slots=True)
class FaultState:
    """Live fault settings, the one-shot script and counters of one tenant."""

    hang_s: float = 30.0
    settings: FaultSettings = field(default_factory=FaultSettings)
    script: deque[str] = field(default_factory=deque)
    requests: int = 0
    injected: dict[str, int] = field(default_factory=dict)

    def configure(self, body: dict[str, Any], *, replace: bool = True) -> None:
        script = body.get("script", [])
        if not isinstance(script, list) or not all(isinstance(w, str) and w in SCRIPT_WORDS for w in script):
            raise ValueError(f"script must be a list of {', '.join(sorted(SCRIPT_WORDS))}")
        if "hang_s" in body:
            hang = body.pop("hang_s")
            if isinstance(hang, bool) or not isinstance(hang, int | float) or hang < 0:
                raise ValueError("hang_s must be a number >= 0")
            self.hang_s = float(hang)
        self.settings = FaultSettings.from_json(body, None if replace else self.settings)
        if replace:
            self.script.clear()
        self.script.extend(script)

    def reset(self) -> None:
        self.settings = FaultSettings()
        self.script.clear()
        self.requests = 0
        self.injected.clear()

    def next_fault(self, *, token_request: bool = False) -> Fault:
        """Decide the fault for the next request (and count it)."""
        s = self.settings
        if token_request and not s.include_token:
            return Fault("ok")
        self.requests += 1
        n = self.requests
        kind = "ok"
        if self.script:
            kind = self.script.popleft()
        elif s.status_429_every and n % s.status_429_every == 0:
            kind = "429"
        elif s.status_5xx_every and n % s.status_5xx_every == 0:
            kind = str(s.status_5xx_code)
        elif s.timeout_every and n % s.timeout_every == 0:
            kind = "timeout"
        elif s.malformed_every and n % s.malformed_every == 0:
            kind = "malformed"
        if kind != "ok":
            self.injected[kind] = self.injected.get(kind, 0) + 1
        return Fault(kind, s.latency_ms, s.retry_after_s, self.hang_s)

    def as_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self.settings, f.name) for f in fields(FaultSettings)}
        counters = {"requests": self.requests, "injected": dict(self.injected)}
        return {**data, "hang_s": self.hang_s, "script": list(self.script), **counters}
