"""Alembic environment: migrations run on the engine handed over by models.db."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from models.db import create_db_engine
from models.tables import metadata

config = context.config


def run_migrations() -> None:
    engine: Engine = config.attributes.get("engine") or create_db_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
