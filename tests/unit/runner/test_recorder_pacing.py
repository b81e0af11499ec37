"""When the ledger recorder cuts a batch: at once for a quiet worker or at the held bound, and about
once per flush interval in a stream of short jobs (a fast database must not mean one write per job)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from core.ledger.recorder import AttemptRecord, LedgerRecorder

INTERVAL_S = 0.3


def _recorder(executing: int) -> LedgerRecorder:
    async def committed(_values: list[Any]) -> None:
        return None

    # SQLite URL: the writes are never reached here, only the batching decision (_gather)
    return LedgerRecorder("sqlite:///unused.db", INTERVAL_S, committed, executing=lambda: executing,
                          engine=lambda: None)  # type: ignore[arg-type,return-value]


async def _gather_time(recorder: LedgerRecorder) -> float:
    recorder.finished(AttemptRecord("job", 1, "w1", datetime.now(UTC)))
    loop = asyncio.get_running_loop()
    began = loop.time()
    await recorder._gather()
    return loop.time() - began


async def test_a_quiet_workers_ending_is_written_at_once() -> None:
    assert await _gather_time(_recorder(executing=0)) < INTERVAL_S / 2


async def test_in_a_stream_the_next_batch_waits_for_the_interval() -> None:
    recorder = _recorder(executing=0)
    recorder._last_flush = asyncio.get_running_loop().time()  # a batch was just cut
    assert await _gather_time(recorder) >= INTERVAL_S * 0.9


async def test_at_the_held_bound_the_batch_is_written_at_once_even_in_a_stream() -> None:
    recorder = _recorder(executing=-1)
    recorder._last_flush = asyncio.get_running_loop().time()
    assert await _gather_time(recorder) < INTERVAL_S / 2


async def test_endings_of_running_jobs_are_awaited_at_most_one_interval() -> None:
    waited = await _gather_time(_recorder(executing=3))
    assert INTERVAL_S * 0.9 <= waited < INTERVAL_S * 5
