"""``process_message_batch`` / ``_cold``: raw entities upserted once, the watermark moved in the same
transaction and never backwards, bad payloads rejected as permanent errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.messages import IngestWatermark
from core.errors import PermanentJobError
from functions.ingestion.batch import MAX_BATCH, process_message_batch, process_message_batch_cold
from functions.runner.context import JobContext
from simulator.server import SimulatorServer
from tests.integration.ingestion.conftest import raw_pages, stored_guids

MakeCtx = Callable[[str], JobContext]


async def test_batch_upserts_once_and_moves_the_watermark_forward_only(
        simulator: SimulatorServer, sim_tenant: int, job_ctx: MakeCtx, db: sessionmaker[Session]) -> None:
    page = (await raw_pages(simulator, size=500))[0]
    mark = datetime(2026, 1, 2, tzinfo=UTC)
    first = await process_message_batch(job_ctx("process_message_batch"), sim_tenant, page,
                                        watermark_kind="hot", advance_to=mark.isoformat())
    again = await process_message_batch_cold(job_ctx("process_message_batch_cold"), sim_tenant, page,
                                             watermark_kind="hot", advance_to=(mark - timedelta(days=1)).isoformat())
    assert (first["received"], first["changed"]) == (500, 500)
    assert (again["received"], again["changed"]) == (500, 0)
    assert sorted(stored_guids(db, sim_tenant)) == sorted(cast(str, e["MessageGuid"]) for e in page)
    with db() as session:
        assert session.scalars(select(IngestWatermark.position)).one() == mark


async def test_bad_batches_are_permanent_errors(sim_tenant: int, job_ctx: MakeCtx,
                                                db: sessionmaker[Session]) -> None:
    with pytest.raises(PermanentJobError, match="not a MessageProcessingLog"):
        await process_message_batch(job_ctx("process_message_batch"), sim_tenant, [{"Status": "FAILED"}])
    with pytest.raises(PermanentJobError, match="at most"):
        await process_message_batch(job_ctx("process_message_batch"), sim_tenant,
                                    [{"MessageGuid": str(i)} for i in range(MAX_BATCH + 1)])
    assert stored_guids(db, sim_tenant) == []
