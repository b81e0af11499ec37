"""Pure pieces of the ingestion family: day windows, row mapping, dedupe, keys and error mapping."""

from __future__ import annotations

import io
import itertools
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from core.cpi import CpiAuthError, CpiMalformedResponse, CpiNotFound, CpiRateLimited, CpiServerError, CpiTimeout
from core.cpi.models import MessageLog
from core.errors import PermanentJobError, RetryableJobError
from core.storage import StorageError, validate_key
from functions.ingestion.cold import day_windows
from functions.ingestion.packages import bundle_version, iflow_key
from functions.ingestion.payloads import payload_key
from functions.ingestion.rows import dedupe_latest, log_to_row
from functions.ingestion.tenant_api import cpi_error_to_job_error

T = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


def log(guid: str, end_ms: int, status: str = "COMPLETED", **extra: object) -> MessageLog:
    return MessageLog.from_entity({"MessageGuid": guid, "Status": status, "LogEnd": f"/Date({end_ms})/", **extra})


def test_day_windows_cut_at_midnight_newest_first_and_contiguous() -> None:
    windows = day_windows(T, T - timedelta(days=2))
    assert windows[0] == (T.replace(hour=0, minute=0), T)
    assert windows[-1][0] == T - timedelta(days=2)
    for (lo, _), (_, hi) in itertools.pairwise(windows):
        assert hi == lo  # no gap, no overlap: windows are (lo, hi]
    assert len(windows) == 3


def test_day_windows_from_exact_midnight_and_empty_range() -> None:
    midnight = T.replace(hour=0, minute=0)
    assert day_windows(midnight, midnight - timedelta(days=1)) == [(midnight - timedelta(days=1), midnight)]
    assert day_windows(midnight, midnight) == []


def test_log_to_row_maps_columns_and_keeps_the_rest_in_extra() -> None:
    row = log_to_row(log("G1", 1_700_000_000_000, "FAILED", CorrelationId="C" * 80,
                         IntegrationArtifact={"Id": "Flow", "Name": "F", "PackageId": "P", "Type": "INTEGRATION_FLOW"},
                         ArchivingLogAttachments="true", TransactionId="ab"))
    assert row["iflow_id"] == "Flow"
    assert row["package_id"] == "P"
    assert row["correlation_id"] == "C" * 64  # clipped to the column, never a failed batch
    assert row["log_end"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert row["extra"] == {"iflow_type": "INTEGRATION_FLOW", "archiving_log_attachments": True,
                            "transaction_id": "ab"}


def test_dedupe_keeps_the_latest_log_end_per_guid() -> None:
    kept = dedupe_latest([log("A", 10, "PROCESSING"), log("B", 5), log("A", 20, "COMPLETED"), log("A", 15, "RETRY")])
    assert sorted((x.message_guid, x.status) for x in kept) == [("A", "COMPLETED"), ("B", "COMPLETED")]


@pytest.mark.parametrize("key", ["a", "a/b.zip", "iflows/1/Flow_1/1.0.0.zip"])
def test_valid_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("key", ["", "/a", "a/", "a/../b", "a//b", "./a", "a\\b"])
def test_invalid_keys(key: str) -> None:
    with pytest.raises(StorageError):
        validate_key(key)


def test_object_keys_are_always_valid() -> None:
    assert validate_key(iflow_key(1, "../../etc/passwd", "1.0/../2")) == "iflows/1/.._.._etc_passwd/1.0_.._2.zip"
    assert validate_key(payload_key(3, "G", "sap-it-res:msg:G:Persist1")) == "payloads/3/G/sap-it-res_msg_G_Persist1"
    assert validate_key(iflow_key(1, "..", ".")) == "iflows/1/_../_..zip"
    assert validate_key(payload_key(1, "", "x")) == "payloads/1/_/x"


def test_bundle_version_read_from_manifest() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nBundle-Version: 1.0.7\n")
    assert bundle_version(buffer.getvalue()) == "1.0.7"
    assert bundle_version(b"PK not a zip") is None


@pytest.mark.parametrize(("error", "kind"), [
    (CpiRateLimited("slow down"), RetryableJobError),
    (CpiServerError("503"), RetryableJobError),
    (CpiTimeout("hang"), RetryableJobError),
    (CpiMalformedResponse("bad json"), RetryableJobError),
    (CpiAuthError("wrong secret"), PermanentJobError),
    (CpiNotFound("gone"), PermanentJobError),
])
def test_cpi_errors_map_to_retry_or_permanent(error: Exception, kind: type[Exception]) -> None:
    mapped = cpi_error_to_job_error(error)  # type: ignore[arg-type]
    assert isinstance(mapped, kind)
    assert type(error).__name__ in str(mapped)
