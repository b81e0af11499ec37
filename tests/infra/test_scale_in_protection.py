"""ECS task scale-in protection of a real worker process, against a local stand-in of the ECS agent's
task-protection endpoint (``PUT $ECS_AGENT_URI/task-protection/v1/state``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from functions.runner.scale_in import STATE_PATH
from tests.integration.runtime.conftest import enqueue, runs
from tests.processes import running, wait_until
from tests.stand_ins import http_receiver


@dataclass
class AgentStandIn:
    """Records every PUT (time, body); answers like the agent, or 503 while ``failures`` > 0."""

    calls: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    failures: int = 0
    url: str = ""

    def enabled_states(self) -> list[bool]:
        return [bool(body["ProtectionEnabled"]) for _, body in self.calls]


@pytest.fixture
def agent() -> Iterator[AgentStandIn]:
    state = AgentStandIn()

    def answer(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if path != STATE_PATH:
            return 404, {"error": {"Code": "NotFound"}}
        if state.failures > 0:
            state.failures -= 1
            return 503, {"error": {"Code": "ServerException", "Message": "agent busy"}}
        state.calls.append((time.monotonic(), body))
        return 200, {"protection": {"ProtectionEnabled": body["ProtectionEnabled"],
                                    "TaskArn": "arn:aws:ecs:eu-central-1:1:task/c/abc"}}

    with http_receiver(responder=answer) as receiver:
        state.url = receiver.url
        yield state


def status(db: sessionmaker[Session], job_id: str) -> str:
    return runs(db, arq_job_id=job_id)[0].status


def worker(settings: Settings, agent: AgentStandIn, log: Path) -> Any:
    return running(settings, "worker", "--group", "periodic", "--concurrency", "1", log=log,
                   ECS_AGENT_URI=agent.url, INTEGRAMON_SCALE_IN_IDLE_SECONDS="1.5",
                   INTEGRAMON_SCALE_IN_PROTECTION_MINUTES="20")


def test_a_busy_worker_is_protected_and_clears_protection_once_idle(
        settings: Settings, db: sessionmaker[Session], agent: AgentStandIn, tmp_path: Path) -> None:
    with worker(settings, agent, tmp_path / "w.log"):
        time.sleep(2.5)
        assert agent.calls == [], "an idle worker must not touch protection"
        (job,) = enqueue(settings, "sleep", {"seconds": 2.0})
        wait_until(lambda: agent.enabled_states() == [True], timeout=20, what="protection on")
        assert agent.calls[0][1] == {"ProtectionEnabled": True, "ExpiresInMinutes": 20}
        # protection goes on as the job is claimed; the batched ledger shows it running a moment later
        wait_until(lambda: status(db, job) in ("running", "succeeded"), timeout=20, what="job running")
        assert agent.enabled_states() == [True]
        # a second job within the idle window: no flip off and on (debounced)
        wait_until(lambda: status(db, job) == "succeeded", timeout=20, what="job done")
        done_at = time.monotonic()
        (second,) = enqueue(settings, "sleep", {"seconds": 0.5})
        wait_until(lambda: status(db, second) == "succeeded", timeout=20, what="second job done")
        wait_until(lambda: agent.enabled_states() == [True, False], timeout=20, what="protection off")
        off_at = agent.calls[1][0]
        assert off_at - done_at >= 1.5 + 0.5, "cleared before the worker was idle for the debounce"
        assert agent.calls[1][1] == {"ProtectionEnabled": False}
        time.sleep(2.0)
        assert agent.enabled_states() == [True, False]


def test_an_agent_outage_is_retried_and_logged_once(
        settings: Settings, db: sessionmaker[Session], agent: AgentStandIn, tmp_path: Path) -> None:
    agent.failures = 3
    log = tmp_path / "w.log"
    with worker(settings, agent, log):
        (job,) = enqueue(settings, "sleep", {"seconds": 12.0})
        wait_until(lambda: agent.enabled_states() == [True], timeout=30, what="protection on after the outage")
        wait_until(lambda: status(db, job) == "running", timeout=20, what="job running")
    text = log.read_text()
    assert text.count("scale-in protection cannot be set") == 1, text
    assert text.count("scale-in protection works again") == 1, text


def test_off_ecs_nothing_is_called(settings: Settings, db: sessionmaker[Session], agent: AgentStandIn,
                                   tmp_path: Path) -> None:
    with running(settings, "worker", "--group", "periodic", "--concurrency", "1", log=tmp_path / "w.log"):
        (job,) = enqueue(settings, "sleep", {"seconds": 0.3})
        wait_until(lambda: status(db, job) == "succeeded", timeout=20, what="job done")
    assert agent.calls == []
