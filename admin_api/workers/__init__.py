"""Live worker processes (Redis heartbeats)."""
