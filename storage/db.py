"""Database engines and sessions: URL normalisation, the async engine, the session factory,
and running Alembic migrations to head (found through this package, not the working directory).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = [
    "DEFAULT_DATABASE_URL",
    "MIGRATIONS_DIR",
    "async_url",
    "create_engine",
    "session_factory",
    "sync_url",
    "upgrade",
]

DEFAULT_DATABASE_URL: Final = "sqlite:///./meetbot.db"
MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS: Final = 5000

_ASYNC_DRIVERS: Final = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SYNC_DRIVERS: Final = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}


def _parse(url: str) -> URL:
    """Parse a database URL; the error names the setting but never echoes the URL (password)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError("MEETBOT_DATABASE_URL: not a database URL") from None
    backend = parsed.get_backend_name()
    if backend == "postgres":  # Heroku-style scheme, not known to SQLAlchemy
        backend = "postgresql"
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(
            f"MEETBOT_DATABASE_URL: unsupported database {backend!r}; use sqlite or postgresql"
        )
    return parsed.set(drivername=backend)


def async_url(url: str) -> URL:
    """`url` with the async driver this project uses (aiosqlite, psycopg 3)."""
    parsed = _parse(url)
    return parsed.set(drivername=_ASYNC_DRIVERS[parsed.drivername])


def sync_url(url: str) -> URL:
    """`url` with a blocking driver, for migrations (pysqlite, psycopg 3)."""
    parsed = _parse(url)
    return parsed.set(drivername=_SYNC_DRIVERS[parsed.drivername])


def _configure_sqlite(engine: Any) -> None:
    """WAL, foreign keys and a busy timeout on every connection; transactions begin IMMEDIATE.

    The sqlite3 module begins transactions lazily (only before a write), so a
    read-then-write would not be atomic; taking the write lock at BEGIN also avoids
    SQLITE_BUSY on lock upgrade when two connections write at once.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url` (sync driver names are mapped to their async drivers).

    Extra keyword arguments go to SQLAlchemy's `create_async_engine`.
    """
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        # One connection: transactions queue in the pool (FIFO, on the event loop) instead of
        # in SQLite's busy handler, which sleeps in growing steps up to 100 ms per retry and
        # made card latency climb to seconds under load. BEGIN IMMEDIATE serialises writers
        # anyway, so a second connection buys no parallelism.
        options: dict[str, Any] = {"pool_size": 1, "max_overflow": 0}
    else:
        options = {"pool_pre_ping": True}
    engine = create_async_engine(target, **(options | kwargs))
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine.sync_engine)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no lazy reload on the event loop)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def alembic_config() -> Config:
    """Alembic configuration pointing at this package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(url: str) -> None:
    """Migrate the database at `url` to the newest revision. Blocking: from async code,
    call it through `asyncio.to_thread`."""
    engine = create_sync_engine(sync_url(url))
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
    finally:
        engine.dispose()
