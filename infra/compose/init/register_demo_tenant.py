"""One-shot of the compose ``demo`` profile: register the CPI simulator's first tenant as tenant ``demo``.

A newcomer without a CPI tenant then sees the whole system work (polling, details, alerts) right after
``docker compose --profile demo up``. Runs in the IntegraMon image after the migrations and once the
simulator is healthy; asks the simulator for its tenant's URLs and OAuth client (simulated, not real
secrets) and upserts the tenant row, the client secret encrypted with INTEGRAMON_SECRET_KEY like any
other tenant secret. Idempotent: a second run points the existing row at the simulator again.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from typing import Any

from sqlalchemy import select

from core.db.models.tenants import Tenant
from core.db.session import create_db_engine, make_session_factory
from core.secrets import SecretBox
from core.settings import Settings, load_settings

DEMO_TENANT = "demo"
ATTEMPTS = 30
PAUSE_S = 2.0


def fetch_tenants(simulator_url: str) -> list[dict[str, Any]]:
    """The simulator's tenants (URLs relative to the address we reach it on), retried while it starts."""
    last_error: Exception | None = None
    for _ in range(ATTEMPTS):
        try:
            with urllib.request.urlopen(f"{simulator_url.rstrip('/')}/_sim/tenants", timeout=5) as response:
                tenants: list[dict[str, Any]] = json.loads(response.read())
                return tenants
        except OSError as exc:
            last_error = exc
            time.sleep(PAUSE_S)
    raise RuntimeError(f"CPI simulator at {simulator_url} did not answer: {last_error}")


def register(settings: Settings, info: dict[str, Any]) -> bool:
    """Upsert tenant ``demo`` from the simulator's tenant ``info``; True when the row was created now."""
    engine = create_db_engine(settings.resolved_database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            tenant = session.execute(select(Tenant).where(Tenant.name == DEMO_TENANT)).scalar_one_or_none()
            created = tenant is None
            if tenant is None:
                tenant = Tenant(name=DEMO_TENANT, auth_type="oauth", active=True)
                session.add(tenant)
            tenant.api_url = info["api_url"]
            tenant.token_url = info["token_url"]
            tenant.client_id = info["client_id"]
            tenant.client_secret_encrypted = SecretBox(settings).encrypt(info["client_secret"])
            return created
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    simulator_url = argv[1] if len(argv) > 1 else "http://simulator:8080"
    settings = load_settings()
    tenants = fetch_tenants(simulator_url)
    if not tenants:
        print(f"register_demo_tenant: the simulator at {simulator_url} has no tenants", file=sys.stderr)
        return 1
    created = register(settings, tenants[0])
    action = "created" if created else "updated"
    print(f"register_demo_tenant: tenant {DEMO_TENANT} {action} -> {tenants[0]['api_url']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
