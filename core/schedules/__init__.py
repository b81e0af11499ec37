"""Schedules (``job_config``) as the core keeps them: how their arguments are stored and read back."""
