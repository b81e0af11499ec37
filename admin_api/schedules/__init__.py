"""Schedules (``job_config``): list, create, pause, resume, run now."""
