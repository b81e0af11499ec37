"""One contract suite for both object stores (local folder and S3 via moto's server mode)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.settings import Settings
from core.storage import LocalObjectStore, ObjectStore, S3ObjectStore, StorageError, StorageNotFound, open_store


def test_put_get_size_exists(store: ObjectStore) -> None:
    store.put_bytes("iflows/1/Order/1.0.0.zip", b"PK\x03\x04zip", "application/zip")
    assert store.get_bytes("iflows/1/Order/1.0.0.zip") == b"PK\x03\x04zip"
    assert store.size("iflows/1/Order/1.0.0.zip") == 7
    assert store.exists("iflows/1/Order/1.0.0.zip")
    assert not store.exists("iflows/1/Order/2.0.0.zip")


def test_put_replaces_whole_object(store: ObjectStore) -> None:
    store.put_bytes("a/b.json", b"x" * 1000)
    store.put_bytes("a/b.json", b"short")
    assert store.get_bytes("a/b.json") == b"short"
    assert store.size("a/b.json") == 5


def test_missing_key_raises_not_found(store: ObjectStore) -> None:
    with pytest.raises(StorageNotFound, match="nope/x"):
        store.get_bytes("nope/x")
    with pytest.raises(StorageNotFound):
        store.size("nope/x")


def test_list_keys_by_prefix_sorted(store: ObjectStore) -> None:
    for key in ("archive/1/2026-01-02.jsonl.gz", "archive/1/2026-01-01.jsonl.gz", "archive/2/x", "iflows/1/a"):
        store.put_bytes(key, b"1")
    assert store.list_keys("archive/1/") == ["archive/1/2026-01-01.jsonl.gz", "archive/1/2026-01-02.jsonl.gz"]
    assert len(store.list_keys()) == 4
    assert store.list_keys("nothing/") == []


def test_delete_is_idempotent(store: ObjectStore) -> None:
    store.put_bytes("d/x", b"1")
    store.delete("d/x")
    store.delete("d/x")
    assert not store.exists("d/x")
    assert store.list_keys("d/") == []


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "dir/", "./a"])
def test_bad_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(StorageError, match="invalid object key"):
        store.put_bytes(key, b"1")


def test_large_object_round_trip(store: ObjectStore) -> None:
    blob = bytes(range(256)) * 40_000  # ~10 MB
    store.put_bytes("big/blob.bin", blob)
    assert store.get_bytes("big/blob.bin") == blob


def test_missing_bucket_is_a_clear_error(s3_endpoint: str, aws_env: None) -> None:
    store = S3ObjectStore("no-such-bucket-here", endpoint_url=s3_endpoint)
    with pytest.raises(StorageError, match="no-such-bucket-here"):
        store.put_bytes("a", b"1")


def test_open_store_picks_backend_from_settings(tmp_path: Path, s3_bucket: str, s3_endpoint: str) -> None:
    local = open_store(Settings(data_dir=tmp_path))
    assert isinstance(local, LocalObjectStore)
    local.put_bytes("k", b"v")
    assert (tmp_path / "archive" / "k").read_bytes() == b"v"
    s3 = open_store(replace(Settings(data_dir=tmp_path), s3_bucket=s3_bucket, s3_endpoint_url=s3_endpoint))
    assert isinstance(s3, S3ObjectStore)
    s3.put_bytes("k", b"v3")
    assert s3.get_bytes("k") == b"v3"
    assert s3.location == f"s3://{s3_bucket}"
