"""Liveness and readiness probes (no authentication)."""
