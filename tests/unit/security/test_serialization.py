"""The JSON wire format's rules: what job arguments may be, how results and errors come back."""

from __future__ import annotations

import datetime as dt
import pickle
from typing import Any

import pytest
from arq.jobs import deserialize_result, serialize_result

from core.queues.serialization import (
    JobFailed,
    PayloadError,
    check_arguments,
    decode_any,
    decode_job,
    encode_job,
    encode_result,
    seal_arguments,
    unseal_arguments,
)


def _job(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {"t": None, "f": "noop", "a": (), "k": kwargs, "et": 1}


def test_a_job_round_trips_with_its_version() -> None:
    raw = encode_job(_job({"tenant_id": 3, "day": "2026-12-01", "ids": [1, 2], "opts": {"a": None}}))
    assert raw.startswith(b"{")
    assert b'"v":1' in raw
    assert decode_job(raw)["k"] == {"tenant_id": 3, "day": "2026-12-01", "ids": [1, 2], "opts": {"a": None}}


@pytest.mark.parametrize(("value", "words"), [
    (float("nan"), "finite"), (float("inf"), "finite"), (10**30, "64-bit"),
    (dt.datetime(2026, 1, 1), "ISO"), ({1, 2}, "set"), (b"x", "bytes"),
])
def test_non_json_arguments_are_refused_naming_the_argument(value: Any, words: str) -> None:
    with pytest.raises(PayloadError, match="'bad'") as refused:
        check_arguments({"bad": value})
    assert words in str(refused.value)
    with pytest.raises(PayloadError):
        encode_job(_job({"bad": value}))


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    deep: Any = 1
    for _ in range(600):
        deep = [deep]
    with pytest.raises(PayloadError, match="nested deeper"):
        check_arguments({"deep": deep})


@pytest.mark.parametrize("raw", [
    pickle.dumps(_job({"x": 1})), b"", b"not json", b"[1,2]", b'{"f":"noop","k":{},"et":1}',
    b'{"v":2,"f":"noop","k":{},"et":1}', b'{"v":1,"f":"noop","k":[],"et":1}', b"{" * 100_000,
])
def test_anything_but_our_json_is_refused(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        decode_job(raw)
    with pytest.raises(PayloadError):
        decode_any(raw)


def test_results_are_converted_and_failures_raise_through_arq() -> None:
    ok = serialize_result("f", (), {"a": 1}, 1, 1, True, {"when": dt.date(2026, 1, 2), "n": {1}}, 1, 2, "r", "q",
                          "id", serializer=encode_result)
    assert ok is not None
    assert deserialize_result(ok, deserializer=decode_any).result == {"when": "2026-01-02", "n": [1]}
    bad = serialize_result("f", (), {}, 1, 1, False, ValueError("boom"), 1, 2, "r", "q", "id",
                           serializer=encode_result)
    assert bad is not None
    info = deserialize_result(bad, deserializer=decode_any)
    assert isinstance(info.result, JobFailed)
    assert (info.result.error_type, info.result.message) == ("ValueError", "boom")


def test_sealed_arguments_are_json_and_old_pickled_seals_are_refused() -> None:
    assert unseal_arguments(seal_arguments({"token": "t"})) == {"token": "t"}
    with pytest.raises(PayloadError):
        unseal_arguments(pickle.dumps({"token": "t"}))


def test_the_enqueue_paths_encoder_writes_the_same_bytes_as_encode_job() -> None:
    """encode_checked_job skips the argument walk (the enqueuer checked them already), nothing else."""
    from core.queues.serialization import encode_checked_job

    for kwargs in ({}, {"n": 1, "s": "é", "none": None}, {"deep": {"a": [1, 2.5, {"b": True}]}}):
        assert encode_checked_job("noop", kwargs, 1_700_000_000_000) == \
            encode_job({"f": "noop", "a": (), "k": kwargs, "t": None, "et": 1_700_000_000_000})
