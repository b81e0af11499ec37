"""Dead letters: runs whose retries are exhausted, kept for replay or discard."""
