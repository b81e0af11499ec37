"""infra/compose/.env.example lists every IntegraMon setting, and nothing that is not one."""

from __future__ import annotations

import dataclasses
import re

from core.settings import Settings, env_name
from tests.infra.toolchain import COMPOSE_DIR

SETTING_LINE = re.compile(r"^#?\s*(INTEGRAMON_[A-Z0-9_]+)=(.*)$")


def listed_settings() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (COMPOSE_DIR / ".env.example").read_text().splitlines():
        match = SETTING_LINE.match(line)
        if match:
            assert match.group(1) not in found, f"{match.group(1)} listed twice"
            found[match.group(1)] = match.group(2)
    return found


def test_env_example_lists_exactly_the_settings_fields() -> None:
    expected = {env_name(f.name) for f in dataclasses.fields(Settings)}
    listed = set(listed_settings())
    assert not expected - listed, f"missing from .env.example: {sorted(expected - listed)}"
    assert not listed - expected, f"not settings (the processes would refuse to start): {sorted(listed - expected)}"


def test_env_example_defaults_match_the_code() -> None:
    """A commented default that differs from the code would mislead whoever uncomments it."""
    listed = listed_settings()
    container_overrides = {"INTEGRAMON_DATA_DIR", "INTEGRAMON_API_HOST", "INTEGRAMON_ARCHIVE_DIR",
                           "INTEGRAMON_DATABASE_URL", "INTEGRAMON_REDIS_URL", "INTEGRAMON_RABBITMQ_URL",
                           "INTEGRAMON_S3_ENDPOINT_URL", "INTEGRAMON_S3_BUCKET", "INTEGRAMON_SECRET_KEY"}
    for field in dataclasses.fields(Settings):
        name = env_name(field.name)
        if name in container_overrides:
            continue
        default = field.default
        shown = listed[name]
        if default is None or default == "":
            assert shown == "", f"{name} shows {shown!r}, the code default is empty"
        elif isinstance(default, float) and default.is_integer():
            assert float(shown) == default, name
        else:
            assert shown == str(default), f"{name} shows {shown!r}, the code default is {default!r}"
