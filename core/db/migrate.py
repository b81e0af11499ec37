"""Run the Alembic migrations programmatically (``integramon migrate``, tests, all-in-one mode)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.exc import OperationalError

from core.db.session import normalise_url
from core.errors import ServiceUnavailable
from core.urls import mask_text

__all__ = ["alembic_config", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Apply every migration up to ``revision`` (all branch heads by default)."""
    try:
        command.upgrade(alembic_config(database_url), revision)
    except OperationalError as exc:
        raise ServiceUnavailable(f"database not reachable for migrations: {mask_text(str(exc.orig))}") from exc
