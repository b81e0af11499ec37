"""Run-time settings: ``config_ext`` keys (global and per tenant) and ``metric_settings`` rows."""
