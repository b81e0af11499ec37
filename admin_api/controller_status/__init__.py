"""Controller status: the leader and each supervised loop's health, read from Redis (``controller --status``)."""
