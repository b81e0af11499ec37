"""A worker serving a queue whose jobs never touch the ORM starts without SQLAlchemy, Alembic or httpx.

Those imports were most of a worker's start-up time (about 1.5 s of CPU) and 40 MiB of its idle
memory. The worker runs for real here (``integramon worker --burst`` in a subprocess, real Redis and
PostgreSQL): the schema check, the claim, the job and the ledger flush all happen, and the process
reports which heavy modules it had loaded when its first job started and when it exited.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from core.queues.catalog import NOOP
from core.queues.enqueue import EnqueueRequest
from core.resources import open_resources
from core.settings import Settings
from tests.processes import process_env

HEAVY = ("sqlalchemy", "alembic", "httpx", "mako", "core.db.models", "jwt.algorithms")

# Runs the real CLI in-process (imported first, as ``python -m integramon`` does), with one hook: when
# the worker starts its first job, note what is loaded.
_DRIVER = """
import json, sys
from pathlib import Path
from integramon.cli import main
import functions.runner.worker as worker
HEAVY = {heavy!r}
seen = {{}}
def loaded():
    return sorted(m for m in sys.modules if m in HEAVY)
original = worker.GroupWorker._start
def start(self, job):
    seen.setdefault("first_job", loaded())
    return original(self, job)
worker.GroupWorker._start = start
code = main(["worker", "--queue", "periodic_run", "--burst", "--concurrency", "1"])
seen["exit"] = loaded()
Path({out!r}).write_text(json.dumps(seen))
sys.exit(code)
"""


async def test_a_noop_queue_worker_runs_its_first_job_without_the_orm(settings: Settings, tmp_path: Path) -> None:
    async with open_resources(settings) as res:
        await res.enqueuer.enqueue_many([EnqueueRequest(NOOP, {"counter": "startup:count"}) for _ in range(3)])
        report = tmp_path / "loaded.json"
        driver = _DRIVER.format(heavy=HEAVY, out=str(report))
        proc = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", driver], env=process_env(settings),
                                       capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        done = await res.redis.hgetall("startup:count")
    assert len(done) == 3  # the jobs really ran (and their ledger batch was written: the worker drained)
    seen = json.loads(report.read_text())
    assert seen == {"first_job": [], "exit": []}, seen


def test_the_cli_loads_no_orm_for_the_worker_command() -> None:
    """The ``worker`` command's own module keeps the enqueue path's imports (ORM, Fernet) to itself."""
    code = ("import sys; import integramon.cli, functions.cli, functions.runner.process; "
            f"print(sorted(m for m in sys.modules if m in {HEAVY!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_pyjwt_waits_for_its_first_use() -> None:
    """redis-py imports PyJWT (and with it cryptography.x509) eagerly; core defers it to first use."""
    code = ("import sys, core, redis.asyncio; before = 'jwt.algorithms' in sys.modules; import jwt; "
            "token = jwt.encode({'a': 1}, 'k' * 32, algorithm='HS256'); "
            "print(before, jwt.decode(token, 'k' * 32, algorithms=['HS256']), 'jwt.algorithms' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False {'a': 1} True"
