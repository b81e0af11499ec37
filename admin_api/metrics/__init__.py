"""Queue depth, throughput, failure rate, durations and the Prometheus endpoint."""
