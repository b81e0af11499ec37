"""Pressure on the shared stores and on CPI, and the rules that turn it into a scaling verdict.

Queue growth is not always a worker problem: adding workers against a throttling tenant, a write-bound
database or a busy Redis makes the queue grow faster. The controller samples the stores here
(:mod:`core.pressure.database`, :mod:`core.pressure.redis_info`), the API shows them beside the queues,
and :mod:`core.pressure.verdict` says per worker group whether more workers would help.
"""
