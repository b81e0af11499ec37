"""The compose stack's s3-init one-shot (infra/compose/init/create_bucket.py) against an S3 API:
moto's server on loopback stands in for SeaweedFS (a third party, so a fake is allowed)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import boto3
import pytest

from tests.infra.toolchain import COMPOSE_DIR, run
from tests.moto_server import moto_server

SCRIPT = COMPOSE_DIR / "init" / "create_bucket.py"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "integramon", "AWS_SECRET_ACCESS_KEY": "integramon-secret"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


def run_init(endpoint: str, bucket: str, region: str = "us-east-1") -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), **CREDENTIALS, "INTEGRAMON_S3_ENDPOINT_URL": endpoint,
           "INTEGRAMON_S3_BUCKET": bucket, "INTEGRAMON_S3_REGION": region}
    return run([sys.executable, SCRIPT], env=env, timeout=60)


def bucket_names(endpoint: str) -> set[str]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    return {b["Name"] for b in client.list_buckets()["Buckets"]}


def test_creates_the_bucket_once_and_is_idempotent(s3_endpoint: str) -> None:
    first = run_init(s3_endpoint, "integramon-archive")
    assert first.returncode == 0, first.stderr
    assert "created" in first.stdout
    assert "integramon-archive" in bucket_names(s3_endpoint)
    again = run_init(s3_endpoint, "integramon-archive")
    assert again.returncode == 0, again.stderr
    assert "already exists" in again.stdout


def test_creates_outside_us_east_1_with_a_location(s3_endpoint: str) -> None:
    result = run_init(s3_endpoint, "integramon-eu", region="eu-central-1")
    assert result.returncode == 0, result.stderr
    assert "integramon-eu" in bucket_names(s3_endpoint)


def test_missing_bucket_setting_is_a_clear_error(s3_endpoint: str) -> None:
    result = run_init(s3_endpoint, "")
    assert result.returncode == 2
    assert "INTEGRAMON_S3_BUCKET" in result.stderr
