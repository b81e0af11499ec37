"""The controller's one way to put metrics into CloudWatch.

Three publishers send datapoints (ready jobs per group, desired workers per group, the controller's own
health); they share this base, so the boto3 client is made once, lazily (most installs never publish
to CloudWatch and should not import boto3), and every put respects PutMetricData's item limit.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_ITEMS_PER_PUT", "CloudWatchMetrics"]

MAX_ITEMS_PER_PUT = 1000  # PutMetricData takes at most 1000 datapoints per call


class CloudWatchMetrics:
    """A namespace and a CloudWatch client made on first use (or the one given, for tests)."""

    def __init__(self, namespace: str, region: str, client: Any = None) -> None:
        self.namespace = namespace
        self._region = region
        self._client = client

    def _cloudwatch(self) -> Any:
        if self._client is None:
            import boto3  # imported lazily: most installs never publish to CloudWatch

            session = boto3.session.Session()
            self._client = session.client("cloudwatch", region_name=session.region_name or self._region)
        return self._client

    def put(self, data: list[dict[str, Any]]) -> None:
        """Send ``data`` in as few calls as the item limit allows (none when it is empty)."""
        for start in range(0, len(data), MAX_ITEMS_PER_PUT):
            self._cloudwatch().put_metric_data(Namespace=self.namespace,
                                               MetricData=data[start:start + MAX_ITEMS_PER_PUT])
