"""Prometheus text exposition (format 0.0.4), written by hand: a handful of gauges do not justify a
client library, and building the text per scrape keeps the API stateless across replicas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["render_metrics"]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _family(name: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}")
    return lines


def render_metrics(depths: list[dict[str, Any]], workers: list[dict[str, Any]], leader: bool) -> str:
    """Per-queue depth gauges, live worker slots per group and whether a controller leader exists."""
    def q(row: dict[str, Any]) -> dict[str, str]:
        return {"queue": row["queue"], "group": row["group"]}

    lines: list[str] = []
    lines += _family("integramon_queue_ready_jobs", "Jobs due and waiting for a worker.",
                     ((q(r), r["ready"]) for r in depths))
    lines += _family("integramon_queue_deferred_jobs", "Jobs scheduled for later (retries, deferred).",
                     ((q(r), r["deferred"]) for r in depths))
    lines += _family("integramon_queue_running_jobs", "Jobs a worker is running now.",
                     ((q(r), r["running"]) for r in depths))
    lines += _family("integramon_queue_oldest_ready_age_seconds", "Age of the oldest ready job (0 when none).",
                     ((q(r), r["oldest_ready_age_s"] or 0.0) for r in depths))
    groups: dict[str, list[int]] = {}
    for w in workers:
        slot = groups.setdefault(str(w["group"]), [0, 0, 0])
        slot[0] += 1
        slot[1] += w["slots_used"]
        slot[2] += w["concurrency"]
    lines += _family("integramon_workers_live", "Worker processes with a live heartbeat.",
                     (({"group": g}, v[0]) for g, v in sorted(groups.items())))
    lines += _family("integramon_worker_slots_used", "Job slots in use across live workers.",
                     (({"group": g}, v[1]) for g, v in sorted(groups.items())))
    lines += _family("integramon_worker_slots_total", "Job slots across live workers.",
                     (({"group": g}, v[2]) for g, v in sorted(groups.items())))
    lines += _family("integramon_controller_leader", "1 when a controller holds the leader lease.",
                     [({}, 1.0 if leader else 0.0)])
    return "\n".join(lines) + "\n"
