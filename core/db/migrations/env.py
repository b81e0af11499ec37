"""Alembic environment: the URL comes from the Config built by core.db.migrate, never from a file."""

from __future__ import annotations

from alembic import context

from core.db.models import Base
from core.db.session import create_db_engine

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set; run migrations through `integramon migrate`")
    engine = create_db_engine(url, null_pool=True)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
