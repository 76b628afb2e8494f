"""Alembic environment: migrates the connection storage.db.upgrade hands over, or, from the
alembic CLI, the database named by MEETBOT_DATABASE_URL (with a blocking driver)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine, pool
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata for autogenerate)
from storage.db import DEFAULT_DATABASE_URL, sync_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("offline (--sql) migrations are not supported")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("MEETBOT_DATABASE_URL", DEFAULT_DATABASE_URL)
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


_main()
