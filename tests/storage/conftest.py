"""Storage fixtures: every test runs on a fresh SQLite file, and also on PostgreSQL (a fresh
schema per test) when MEETBOT_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, session_factory, sync_url, upgrade
from storage.repo import Repository
from storage.secrets import SecretBox

PG_ENV: str = "MEETBOT_TEST_DATABASE_URL"
BACKENDS = ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]
KEY: str = Fernet.generate_key().decode()


class StepClock:
    """A clock that advances one millisecond per reading: distinct, ordered timestamps."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def __call__(self) -> datetime:
        self._now += timedelta(milliseconds=1)
        return self._now


@dataclass(frozen=True)
class Database:
    backend: str
    url: str


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database: a temporary SQLite file, or a new PostgreSQL schema (dropped after)."""
    backend: str = request.param
    if backend == "sqlite":
        yield Database(backend, f"sqlite:///{tmp_path / 'meetbot.db'}")
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


@pytest.fixture
def database(empty_database: Database) -> Database:
    """A database migrated to head."""
    upgrade(empty_database.url)
    return empty_database


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database.url)
    yield engine
    await engine.dispose()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox.from_keys(KEY)


@pytest.fixture
def clock() -> StepClock:
    return StepClock(datetime(2030, 1, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def repo(engine: AsyncEngine, box: SecretBox, clock: StepClock) -> Repository:
    return Repository(session_factory(engine), box, clock=clock)
