"""Shared core of IntegraMon Runtime: settings, errors, database, queue catalog and run ledger.

The core is imported by every deployable (``functions``, ``controller``, ``admin_api``) and
imports none of them; ``lint-imports`` enforces that rule in CI.
"""

from core.lazy_modules import defer_rarely_used

defer_rarely_used()  # before anything imports redis: see core.lazy_modules
