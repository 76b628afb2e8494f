"""Fixtures for the whole suite: databases on every backend the run can reach."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text

from storage.db import sync_url

PG_ENV: str = "MEETBOT_TEST_DATABASE_URL"
BACKENDS = ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]
"""SQLite always; PostgreSQL too when MEETBOT_TEST_DATABASE_URL is set (.ci/run sets it)."""


@dataclass(frozen=True)
class Database:
    backend: str
    url: str


@contextlib.contextmanager
def database_on(backend: str, directory: Path) -> Iterator[Database]:
    """An empty database: a SQLite file in `directory`, or a new PostgreSQL schema (dropped
    after)."""
    if backend == "sqlite":
        yield Database(backend, f"sqlite:///{directory / 'meetbot.db'}")
        return
    base = sync_url(os.environ[PG_ENV])
    schema = f"t_{uuid.uuid4().hex}"
    admin = create_sync_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield Database(backend, url.render_as_string(hide_password=False))
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database on each backend (see `database_on`)."""
    with database_on(request.param, tmp_path) as database:
        yield database
