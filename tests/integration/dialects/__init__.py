"""Contract tests: each PostgreSQL / SQLite fork runs one scenario on both databases with equal outcomes."""
