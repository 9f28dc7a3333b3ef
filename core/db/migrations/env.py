"""Alembic environment: runs against the connection handed in by zbsn.core.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from zbsn.core.db import models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("zbsn migrations run through zbsn.core.db.migrate, which passes a connection")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
