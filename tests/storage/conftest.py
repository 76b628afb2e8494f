"""Storage fixtures: every test runs on a fresh SQLite file, and also on PostgreSQL (a fresh
schema per test) when MEETBOT_TEST_DATABASE_URL is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, session_factory, upgrade
from storage.repo import Repository
from storage.secrets import SecretBox
from tests.conftest import Database

KEY: str = Fernet.generate_key().decode()


class StepClock:
    """A clock that advances one millisecond per reading: distinct, ordered timestamps."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def __call__(self) -> datetime:
        self._now += timedelta(milliseconds=1)
        return self._now


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
