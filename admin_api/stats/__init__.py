"""Message statistics built by ``stats_update_t``: tenant totals per hour or day (read-only)."""
