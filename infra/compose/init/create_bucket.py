"""One-shot init of the compose stack: create the archive bucket in the S3-compatible store.

Runs in the IntegraMon image (boto3 is there) before any IntegraMon process starts, so archives and
iflow zips never meet a missing bucket. Idempotent: an existing bucket is left as it is, so
``docker compose up`` can run it on every start. Reads the same variables the runtime reads
(``INTEGRAMON_S3_*`` plus boto3's standard ``AWS_*`` credentials).
"""

from __future__ import annotations

import os
import sys
import time

import boto3
from botocore.exceptions import BotoCoreError, ClientError

ATTEMPTS = 30
PAUSE_S = 2.0


def ensure_bucket(endpoint_url: str, bucket: str, region: str) -> bool:
    """Create ``bucket`` unless it exists; True when it was created now."""
    client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region)
    try:
        client.head_bucket(Bucket=bucket)
        return False
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket", "NotFound"}:
            raise
    if region == "us-east-1":
        client.create_bucket(Bucket=bucket)
    else:
        # S3-compatible stores accept regions outside boto3's literal list (e.g. SeaweedFS's own).
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})  # type: ignore[typeddict-item]
    return True


def main() -> int:
    bucket = os.environ.get("INTEGRAMON_S3_BUCKET", "")
    if not bucket:
        print("create_bucket: INTEGRAMON_S3_BUCKET is not set", file=sys.stderr)
        return 2
    endpoint = os.environ.get("INTEGRAMON_S3_ENDPOINT_URL", "")
    region = os.environ.get("INTEGRAMON_S3_REGION", "") or "us-east-1"
    last_error: Exception | None = None
    for _ in range(ATTEMPTS):  # the store may still be opening its volumes
        try:
            created = ensure_bucket(endpoint, bucket, region)
        except (BotoCoreError, ClientError) as exc:
            last_error = exc
            time.sleep(PAUSE_S)
            continue
        print(f"create_bucket: bucket {bucket} {'created' if created else 'already exists'}")
        return 0
    print(f"create_bucket: could not create bucket {bucket} at {endpoint}: {last_error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
