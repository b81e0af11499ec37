"""The offline answer: built from the same context as the LLM prompt, so the chat works without one.

It recognises an iflow named in the question and answers about it; otherwise it summarises the
window: totals, top failing iflows, recent error texts and open alerts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["builtin_answer"]


def _about_iflow(flow: str, context: dict[str, Any]) -> list[str]:
    stats = next((r for r in context["top_failing_iflows"] if r["iflow_id"] == flow), None)
    errors = [e for e in context["recent_errors"] if e["iflow_id"] == flow]
    if stats is None:
        seen = next((r for r in context.get("busiest_iflows", []) if r["iflow_id"] == flow), None)
        volume = f" ({seen['messages']} messages processed)" if seen else ""
        return [f"{flow} has no failed messages in the last {context['window_hours']} hours{volume}."]
    lines = [f"{flow}: {stats['failures']} of {stats['messages']} messages failed "
             f"({stats['failure_rate']:.1%}) in the last {context['window_hours']} hours."]
    lines += [f"- {e['at']}: {e['error']}" for e in errors[:5]]
    return lines


def _summary(context: dict[str, Any]) -> list[str]:
    by_status = context["messages_by_status"]
    total = sum(by_status.values())
    failed = sum(n for s, n in by_status.items() if s in ("FAILED", "ESCALATED"))
    lines = [f"In the last {context['window_hours']} hours: {total} messages, {failed} failed or escalated."]
    if context["top_failing_iflows"]:
        lines.append("Top failing iflows:")
        lines += [f"- {r['iflow_id'] or '(unknown)'}: {r['failures']} of {r['messages']} failed "
                  f"({r['failure_rate']:.1%})" for r in context["top_failing_iflows"][:5]]
    if context["recent_errors"]:
        lines.append("Recent error texts:")
        lines += [f"- {e['iflow_id'] or '(unknown)'}: {e['error']}" for e in context["recent_errors"][:5]]
    if context["open_alerts"]:
        lines.append(f"Open alerts: {len(context['open_alerts'])} "
                     f"({', '.join(a['rule'] + ' ' + a['scope'] for a in context['open_alerts'][:3])}).")
    return lines


def builtin_answer(question: str, context: dict[str, Any]) -> str:
    """A factual answer from ``context``; no language model involved."""
    lowered = question.lower()
    known = ({r["iflow_id"] for r in context["top_failing_iflows"]} | {e["iflow_id"] for e in context["recent_errors"]}
             | {r["iflow_id"] for r in context.get("busiest_iflows", [])})
    named = sorted((f for f in known if f and f.lower() in lowered), key=len, reverse=True)
    lines = _about_iflow(named[0], context) if named else _summary(context)
    return "\n".join(lines)
