"""Alembic migrations build the schema the models describe, on SQLite and PostgreSQL; URLs map
to the async drivers; SQLite connections get WAL, foreign keys and a busy timeout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy import create_engine as create_sync_engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables for compare_metadata)
from storage.db import alembic_config, async_url, create_engine, sync_url, upgrade
from tests.conftest import Database

TABLES = {"workspace", "user_mapping", "meeting", "delivery", "audit_log"}
INDEXES = {
    ("user_mapping", "ix_user_mapping_team_third_party", ("team_id", "third_party_id")),
    ("meeting", "ix_meeting_team_state_start", ("team_id", "state", "start_at")),
    ("delivery", "ix_delivery_due_pending", ("due_at",)),
    ("audit_log", "ix_audit_log_team_created", ("team_id", "created_at")),
}
UNIQUES = {
    ("user_mapping", ("team_id", "slack_user_id")),
    ("meeting", ("team_id", "conference_id")),
    ("delivery", ("team_id", "meeting_id", "occurrence", "kind", "recipient")),
}


@contextmanager
def connect(database: Database) -> Iterator[Connection]:
    engine = create_sync_engine(sync_url(database.url))
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_index_and_unique_constraint(database: Database) -> None:
    with connect(database) as conn:
        insp = inspect(conn)
        assert set(insp.get_table_names()) >= TABLES
        indexes = {
            (table, ix["name"], tuple(ix["column_names"]))
            for table in TABLES
            for ix in insp.get_indexes(table)
        }
        assert indexes >= INDEXES
        uniques = {
            (table, tuple(uq["column_names"]))
            for table in TABLES
            for uq in insp.get_unique_constraints(table)
        }
        assert uniques >= UNIQUES
        fks = {
            (fk["referred_table"], tuple(fk["constrained_columns"]))
            for fk in insp.get_foreign_keys("delivery")
        }
        assert ("meeting", ("team_id", "meeting_id")) in fks


def test_due_index_is_partial_on_unsent_and_unwithdrawn(database: Database) -> None:
    with connect(database) as conn:
        [index] = [
            ix
            for ix in inspect(conn).get_indexes("delivery")
            if ix["name"] == "ix_delivery_due_pending"
        ]
        where = index["dialect_options"][f"{database.backend}_where"]
        assert re.sub(r"[()\s]", "", str(where)).lower() == "sent_atisnullandwithdrawn_atisnull"


def test_models_match_the_migrated_schema(database: Database) -> None:
    with connect(database) as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrade_is_rerunnable_and_keeps_data(database: Database) -> None:
    with connect(database) as conn, conn.begin():
        conn.execute(
            text(
                "INSERT INTO workspace (team_id, mapping_mode, created_at, updated_at) "
                "VALUES ('T1', 'email', :now, :now)"
            ),
            {"now": "2030-01-01 00:00:00+00:00"},
        )
    upgrade(database.url)
    upgrade(database.url)
    with connect(database) as conn:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
        assert conn.execute(text("SELECT team_id FROM workspace")).scalars().all() == ["T1"]


def test_downgrade_to_base_then_upgrade_again(database: Database) -> None:
    with connect(database) as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
        conn.commit()
        assert not TABLES & set(inspect(conn).get_table_names())
    upgrade(database.url)
    with connect(database) as conn:
        assert set(inspect(conn).get_table_names()) >= TABLES


def test_upgrade_does_not_depend_on_the_working_directory(
    empty_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    upgrade(empty_database.url)
    with connect(empty_database) as conn:
        assert set(inspect(conn).get_table_names()) >= TABLES


async def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar_one() == 1
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one() == 5000
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "sqlite:///./meetbot.db", "sqlite+aiosqlite:///./meetbot.db", id="sqlite-default"
        ),
        pytest.param("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db", id="sqlite-async"),
        pytest.param(
            "postgresql+psycopg://u:p@h/db", "postgresql+psycopg://u:p@h/db", id="psycopg"
        ),
        pytest.param("postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db", id="postgresql"),
        pytest.param(
            "postgres://u:p@h:5433/db", "postgresql+psycopg://u:p@h:5433/db", id="postgres"
        ),
        pytest.param("postgresql+psycopg2://u@h/db", "postgresql+psycopg://u@h/db", id="psycopg2"),
    ],
)
def test_database_urls_map_to_the_async_drivers(url: str, expected: str) -> None:
    assert async_url(url).render_as_string(hide_password=False) == expected


def test_migrations_use_blocking_drivers() -> None:
    assert sync_url("sqlite+aiosqlite:///x.db").drivername == "sqlite+pysqlite"
    assert sync_url("postgres://u@h/db").drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("mysql://root:hunter2@db/meetbot", id="unsupported"),
        pytest.param("hunter2 is not a url", id="garbage"),
    ],
)
def test_bad_database_url_names_the_setting_without_echoing_it(url: str) -> None:
    with pytest.raises(ValueError, match="MEETBOT_DATABASE_URL") as info:
        async_url(url)
    assert "hunter2" not in str(info.value)
