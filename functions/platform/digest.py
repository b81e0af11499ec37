"""The agent report digest: failures per iflow for a period, with a few distinct error texts.

Only counts, iflow names, times and the first line of error texts go in: never payloads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models.messages import MessageLog

__all__ = ["FAILURE_STATUSES", "build_digest", "error_line", "render_text"]

FAILURE_STATUSES = ("FAILED", "ESCALATED")
MAX_ERRORS = 3
MAX_IFLOWS = 50


def error_line(text: str | None, limit: int = 200) -> str:
    """First line of an error text, trimmed: enough to recognise it, short enough for a digest."""
    if not text:
        return ""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:limit]


@dataclass(slots=True)
class _Flow:
    total: int = 0
    failed: int = 0
    last_failure: datetime | None = None
    errors: list[str] = field(default_factory=list)


def _collect(session: Session, tenant_id: int | None, start: datetime, end: datetime) -> dict[tuple[int, str], _Flow]:
    query = select(MessageLog.tenant_id, MessageLog.iflow_id, MessageLog.status, MessageLog.log_end,
                   MessageLog.error_text).where(MessageLog.log_end >= start, MessageLog.log_end < end)
    if tenant_id is not None:
        query = query.where(MessageLog.tenant_id == tenant_id)
    flows: dict[tuple[int, str], _Flow] = defaultdict(_Flow)
    for tid, iflow, status, log_end, error in session.execute(query.order_by(MessageLog.log_end.desc())):
        flow = flows[(tid, iflow or "")]
        flow.total += 1
        if status in FAILURE_STATUSES:
            flow.failed += 1
            flow.last_failure = flow.last_failure or log_end
            line = error_line(error)
            if line and line not in flow.errors and len(flow.errors) < MAX_ERRORS:
                flow.errors.append(line)
    return flows


def build_digest(session: Session, tenant_id: int | None, start: datetime, end: datetime) -> dict[str, Any]:
    """JSON digest: totals and, for each iflow with failures (most first), counts, rate and errors."""
    flows = _collect(session, tenant_id, start, end)
    failing = sorted(((k, f) for k, f in flows.items() if f.failed), key=lambda kv: (-kv[1].failed, kv[0]))
    return {
        "period_start": start.isoformat(), "period_end": end.isoformat(), "tenant_id": tenant_id,
        "messages": sum(f.total for f in flows.values()), "failures": sum(f.failed for f in flows.values()),
        "iflows": [
            {"tenant_id": tid, "iflow_id": iflow, "messages": f.total, "failures": f.failed,
             "failure_rate": round(f.failed / f.total, 4),
             "last_failure": f.last_failure.isoformat() if f.last_failure else None, "errors": f.errors}
            for (tid, iflow), f in failing[:MAX_IFLOWS]
        ],
    }


def render_text(digest: dict[str, Any]) -> str:
    """Plain-text form for e-mail and the console."""
    lines = [f"IntegraMon failure digest {digest['period_start']} .. {digest['period_end']}",
             f"{digest['failures']} failed of {digest['messages']} messages", ""]
    if not digest["iflows"]:
        lines.append("No failures in this period.")
    for row in digest["iflows"]:
        lines.append(f"- {row['iflow_id'] or '(unknown iflow)'} (tenant {row['tenant_id']}): {row['failures']} of "
                     f"{row['messages']} failed ({row['failure_rate']:.1%}), last {row['last_failure']}")
        lines.extend(f"    {err}" for err in row["errors"])
    return "\n".join(lines) + "\n"
