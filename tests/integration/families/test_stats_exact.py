"""Property: incremental stats equal a full recomputation after every step, whatever the writes.

Random sequences of inserts, status / LogEnd / iflow / package changes, identical re-reads, stats reruns
and late commits (a transaction held open across stats runs, then committed or rolled back) go
through the real ingestion upsert on real PostgreSQL. After every stats run the stored cells must
equal ``functions.stats.verify.expected_cells`` of the committed rows (a stats run follows every step).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from core.cpi.models import MessageLog as CpiLog
from core.db.models.messages import MessageLog
from core.db.models.stats import StatsDirty
from core.db.session import make_session_factory
from functions.ingestion.upsert import upsert_message_logs
from functions.stats.buckets import update_tenant
from functions.stats.verify import compare
from tests.integration.families.conftest import add_tenant

BASE = datetime(2026, 11, 20, tzinfo=UTC)
GUIDS = 8
LATE_GUIDS = range(4, 8)  # only these are written by the held transaction, so sessions never block
_tenants = itertools.count(1)

moments = st.one_of(
    st.integers(0, 71).map(lambda h: BASE + timedelta(hours=h)),  # exactly on an hour boundary
    st.integers(0, 3 * 86400 * 1000 - 1).map(lambda ms: BASE + timedelta(milliseconds=ms)),
)
write = st.fixed_dictionaries({
    "guid": st.integers(0, GUIDS - 1),
    "end": moments,
    "duration_ms": st.integers(0, 5000),
    "status": st.sampled_from(["COMPLETED", "FAILED", "RETRY", "ESCALATED", "PROCESSING"]),
    "iflow": st.sampled_from(["FlowA", "FlowB"]),
    "package": st.sampled_from(["PkgA", "PkgB", None]),
})
step = st.one_of(
    write.map(lambda w: ("write", w)),
    st.tuples(st.integers(0, GUIDS - 1), moments).map(lambda t: ("move", t)),
    st.tuples(st.integers(0, GUIDS - 1), st.sampled_from(["COMPLETED", "FAILED"])).map(lambda t: ("status", t)),
    st.tuples(st.integers(0, GUIDS - 1), moments).map(lambda t: ("unfinished", t)),
    st.just(("stats", None)),
    st.just(("replay", None)),
    st.just(("hold", None)),
    st.just(("commit", None)),
    st.just(("rollback", None)),
)


@dataclass
class Harness:
    sessions: sessionmaker[Session]
    tenant_id: int
    held: Session | None = None
    latest: dict[str, CpiLog] | None = None  # the last written version of each guid (committed or held)

    def upsert(self, guid_index: int, log: CpiLog) -> None:
        if self.held is not None and guid_index in LATE_GUIDS:
            upsert_message_logs(self.held, self.tenant_id, [log])
            self.held.flush()
            return
        with self.sessions.begin() as session:
            upsert_message_logs(session, self.tenant_id, [log])

    def current(self, guid_index: int) -> CpiLog | None:
        assert self.latest is not None
        return self.latest.get(f"M{guid_index}")

    def stats_exact(self) -> None:
        with self.sessions.begin() as session:
            update_tenant(session, self.tenant_id)
        with self.sessions() as session:
            assert compare(session, self.tenant_id) == []


def _log(guid_index: int, end: datetime | None, start: datetime | None, status: str, iflow: str,
         package: str | None) -> CpiLog:
    return CpiLog(message_guid=f"M{guid_index}", status=status, log_start=start, log_end=end, iflow_id=iflow,
                  package_id=package)


def _changed_log(h: Harness, kind: str, arg: Any) -> CpiLog | None:
    """The new version of a message for a write step (None when it changes a message never written)."""
    if kind == "write":
        end = arg["end"]
        return _log(arg["guid"], end, end - timedelta(milliseconds=arg["duration_ms"]), arg["status"],
                    arg["iflow"], arg["package"])
    guid, value = arg
    old = h.current(guid)
    if old is None:
        return None
    if kind == "move":  # a retried message ends later (or earlier) with another status
        return _log(guid, value, old.log_start, "FAILED", old.iflow_id or "", old.package_id)
    if kind == "status":
        return _log(guid, old.log_end, old.log_start, value, old.iflow_id or "", old.package_id)
    return _log(guid, None, value, "PROCESSING", old.iflow_id or "", old.package_id)  # still running


def _end_held(h: Harness, commit: bool) -> None:
    if h.held is None:
        return
    if commit:
        h.held.commit()
    else:
        h.held.rollback()
        _forget_rolled_back(h)
    h.held.close()
    h.held = None


def _apply(h: Harness, kind: str, arg: Any) -> None:
    assert h.latest is not None
    if kind == "replay":  # a re-read of everything already written: the upsert changes nothing
        for key, log in list(h.latest.items()):
            h.upsert(int(key[1:]), log)
    elif kind == "stats":
        h.stats_exact()
    elif kind == "hold":
        if h.held is None:
            h.held = h.sessions()
            h.held.begin()
    elif kind in ("commit", "rollback"):
        _end_held(h, kind == "commit")
    elif (changed := _changed_log(h, kind, arg)) is not None:
        h.upsert(int(changed.message_guid[1:]), changed)
        h.latest[changed.message_guid] = changed


def _forget_rolled_back(h: Harness) -> None:
    """After a rollback the late guids are what the database holds again."""
    assert h.latest is not None
    with h.sessions() as session:
        rows = {r.message_guid: r for r in session.scalars(select(MessageLog).where(
            MessageLog.tenant_id == h.tenant_id))}
    for index in LATE_GUIDS:
        guid = f"M{index}"
        row = rows.get(guid)
        if row is None:
            h.latest.pop(guid, None)
        else:
            h.latest[guid] = _log(index, row.log_end, row.log_start, row.status, row.iflow_id or "", row.package_id)


_FIRST = {"guid": 0, "end": BASE + timedelta(minutes=5), "duration_ms": 10, "status": "RETRY", "iflow": "FlowA",
          "package": "PkgA"}


@example(steps=[("write", _FIRST), ("stats", None), ("move", (0, BASE + timedelta(hours=30))), ("stats", None)])
@example(steps=[("write", {**_FIRST, "guid": 5}), ("stats", None), ("hold", None),
                ("move", (5, BASE + timedelta(hours=2))), ("stats", None), ("commit", None), ("stats", None)])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=30))
def test_incremental_equals_full_after_every_step(pg_engine: Engine, steps: list[tuple[str, Any]]) -> None:
    sessions = make_session_factory(pg_engine)
    h = Harness(sessions, add_tenant(sessions, name=f"prop-{next(_tenants)}"), latest={})
    try:
        h.stats_exact()  # the first pass (full) on an empty tenant
        for kind, arg in steps:
            _apply(h, kind, arg)
            h.stats_exact()  # a stats run after every step; a "stats" step makes it a rerun
    finally:
        if h.held is not None:
            h.held.commit()
            h.held.close()
            h.held = None
    h.stats_exact()
    with sessions() as session:  # every mark was consumed: nothing is left to rebuild
        assert session.scalars(select(StatsDirty).where(StatsDirty.tenant_id == h.tenant_id)).first() is None
