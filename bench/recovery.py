"""Recovery time of each fault the fault tier injects (Redis restart and data loss, PostgreSQL crash,
RabbitMQ outage, worker kill, controller kill, CPI outage), measured by running ``tests/faults``.

The tier prints one ``recovery <scenario>: <seconds> s`` line per measurement; this collects them.
docs/faults.md quotes the figures. Usage: python -m bench.recovery (honours INTEGRAMON_TEST_PG_DB and
INTEGRAMON_TEST_REDIS_DB like the test suite; the tier starts its own redis-server and PostgreSQL).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

_LINE = re.compile(r"recovery (?P<scenario>[^:]+(?::[^:]+)?): (?:events delivered )?(?P<seconds>[0-9.]+) s")


def main() -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/faults"],
                          capture_output=True, text=True, check=False)
    figures: dict[str, float] = {}
    for line in done.stdout.splitlines():
        match = _LINE.search(line)
        if match:
            figures[match["scenario"].strip()] = float(match["seconds"])
    for scenario, seconds in figures.items():
        print(f"{scenario:55} {seconds:6.1f} s")
    summary = [line for line in done.stdout.splitlines() if " passed" in line or " failed" in line]
    print(json.dumps({"recovery_s": figures, "tier": summary[-1].strip() if summary else "no result"}))


if __name__ == "__main__":
    main()
