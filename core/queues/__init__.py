"""Queue catalog, Redis key names, retry policy and the enqueue API."""
