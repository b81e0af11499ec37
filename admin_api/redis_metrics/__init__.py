"""Redis server metrics: memory, ops/s, clients, keyspace, per-queue depth, slowlog."""
