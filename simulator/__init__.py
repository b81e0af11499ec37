"""CPI tenant simulator: a Litestar app serving the subset of SAP Cloud Integration's OData v1 API that
IntegraMon reads, for several tenants at once, with deterministic data and scriptable faults.

Public API (stable, used by other tests and by ``make dev``):
- :class:`simulator.config.SimulatorConfig` — tenants, seed, message rate, failure ratio, history.
- :func:`simulator.app.create_app` — the Litestar app for a config.
- :class:`simulator.server.SimulatorServer` — runs the app with uvicorn in a background thread on a
  free loopback port (``with SimulatorServer(config) as sim: sim.tenant("tenant1").api_url``).
- ``integramon simulator --port P --tenants N --seed S [--rate R --failure-ratio F]`` (``simulator.cli``).
The HTTP surface, including the ``/_sim`` admin endpoints for fault injection, is described in
``simulator/README.md``.
"""
