"""The database tables (SQLModel). The words their text columns hold (MappingMode,
MeetingState, re-exported here) live in storage.vocabulary, their one home.

Alembic owns the schema (storage/migrations); these classes must match it, which
tests/storage/test_migrations.py checks. Every datetime column is aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel
from typing_extensions import override

from storage.vocabulary import OPEN_STATES, MappingMode, MeetingState

__all__ = [
    "SLACK_BOTS",
    "SLACK_GRID_TEAMS",
    "SLACK_INSTALLATIONS",
    "SLACK_OAUTH_STATES",
    "AuditLog",
    "Delivery",
    "MappingMode",
    "Meeting",
    "MeetingInvitee",
    "MeetingState",
    "SeenKey",
    "UTCDateTime",
    "UserMapping",
    "Workspace",
]


class UTCDateTime(TypeDecorator[datetime]):
    """`DateTime(timezone=True)` that only accepts aware values and always returns aware UTC.

    SQLite has no time zone type: values are stored as naive UTC text (so string order
    is time order) and read back with UTC attached.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @override
    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given for a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    @override
    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _in(column: str, values: Iterable[str]) -> str:
    """An SQL `column IN (…)` test of stored values (a vocabulary enum, or some of its values)."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Workspace(SQLModel, table=True):
    """One Slack workspace (team) and its settings."""

    __tablename__: ClassVar[Any] = "workspace"
    __table_args__: ClassVar[Any] = (
        CheckConstraint(_in("mapping_mode", MappingMode), name="ck_workspace_mapping_mode"),
    )

    team_id: str = Field(primary_key=True)
    team_name: str | None = None
    app_id: str | None = None
    app_key_encrypted: str | None = Field(default=None, sa_type=Text)
    """Fernet token (storage.secrets.SecretBox); never the plain key."""
    corp_id: str | None = None
    mapping_mode: str = Field(default=MappingMode.EMAIL.value)
    reminder_minutes: str | None = None
    """Comma-separated offsets in minutes before the start ("15,5,0"); NULL = global default."""
    reminder_channel_id: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class UserMapping(SQLModel, table=True):
    """An admin's explicit Slack user -> third-party user ID mapping."""

    __tablename__: ClassVar[Any] = "user_mapping"
    __table_args__: ClassVar[Any] = (
        UniqueConstraint("team_id", "slack_user_id", name="uq_user_mapping_team_user"),
        Index("ix_user_mapping_team_third_party", "team_id", "third_party_id"),
        ForeignKeyConstraint(
            ["team_id"],
            ["workspace.team_id"],
            name="fk_user_mapping_workspace",
            ondelete="CASCADE",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    slack_user_id: str
    third_party_id: str
    created_by: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Meeting(SQLModel, table=True):
    """A meeting created through the bot, and where its card lives in Slack."""

    __tablename__: ClassVar[Any] = "meeting"
    __table_args__: ClassVar[Any] = (
        UniqueConstraint("team_id", "conference_id", name="uq_meeting_team_conference"),
        # Target of delivery's composite foreign key: a delivery can only point at a
        # meeting of its own workspace.
        UniqueConstraint("team_id", "id", name="uq_meeting_team_id"),
        Index("ix_meeting_team_state_start", "team_id", "state", "start_at"),
        # The status poll's query: open meetings whose watch has begun.
        Index(
            "ix_meeting_watch_open",
            "watch_from",
            sqlite_where=text(_in("state", OPEN_STATES)),
            postgresql_where=text(_in("state", OPEN_STATES)),
        ),
        ForeignKeyConstraint(
            ["team_id"], ["workspace.team_id"], name="fk_meeting_workspace", ondelete="CASCADE"
        ),
        CheckConstraint(_in("state", MeetingState), name="ck_meeting_state"),
        # The duplicate guard's query: one person's meetings created lately in a conversation.
        Index("ix_meeting_team_organizer_created", "team_id", "organizer_slack_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    conference_id: str
    organizer_slack_id: str
    organizer_third_party_id: str
    channel_id: str | None = None
    message_ts: str | None = None
    """Slack ts of the card; NULL until the card is posted."""
    topic: str
    start_at: datetime = Field(sa_type=UTCDateTime)
    end_at: datetime = Field(sa_type=UTCDateTime)
    duration_minutes: int
    tz_name: str
    state: str = Field(default=MeetingState.SCHEDULED.value)
    is_instant: bool = False
    recurrence: str | None = Field(default=None, sa_type=Text)
    """JSON object, NULL for a one-off meeting."""
    guest_join_url: str | None = Field(default=None, sa_type=Text)
    invitees: str = Field(default="[]", sa_type=Text)
    """JSON list of Slack user IDs."""
    participant_count: int | None = None
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    card_state: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    watch_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """From when the status poll asks the vendor about the current occurrence."""
    occurrences: str | None = Field(default=None, sa_type=Text)
    slack_call_id: str | None = None
    """JSON list of every occurrence start (ISO, UTC) of a recurring meeting; NULL otherwise."""


class MeetingInvitee(SQLModel, table=True):
    """One invitee of a meeting (the meeting's `invitees` JSON, one row per person), so that
    "meetings I am invited to" is an exact, indexed query on every database."""

    __tablename__: ClassVar[Any] = "meeting_invitee"
    __table_args__: ClassVar[Any] = (
        ForeignKeyConstraint(
            ["team_id", "meeting_id"],
            ["meeting.team_id", "meeting.id"],
            name="fk_meeting_invitee_meeting",
            ondelete="CASCADE",
        ),
        Index("ix_meeting_invitee_team_user", "team_id", "slack_user_id", "meeting_id"),
    )

    team_id: str = Field(primary_key=True)
    meeting_id: int = Field(primary_key=True)
    slack_user_id: str = Field(primary_key=True)


class Delivery(SQLModel, table=True):
    """One message the bot owes (a reminder, "started", "ended") for one occurrence."""

    __tablename__: ClassVar[Any] = "delivery"
    __table_args__: ClassVar[Any] = (
        UniqueConstraint(
            "team_id",
            "meeting_id",
            "occurrence",
            "kind",
            "recipient",
            name="uq_delivery_meeting_occurrence_kind_recipient",
        ),
        ForeignKeyConstraint(
            ["team_id", "meeting_id"],
            ["meeting.team_id", "meeting.id"],
            name="fk_delivery_meeting",
            ondelete="CASCADE",
        ),
        # The scheduler's hot query: what is due and still owed.
        Index(
            "ix_delivery_due_pending",
            "due_at",
            sqlite_where=text("sent_at IS NULL AND withdrawn_at IS NULL"),
            postgresql_where=text("sent_at IS NULL AND withdrawn_at IS NULL"),
        ),
        CheckConstraint("attempts >= 0", name="ck_delivery_attempts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    meeting_id: int
    occurrence: datetime = Field(sa_type=UTCDateTime)
    """Start of the occurrence this message is about (the start for a one-off meeting)."""
    kind: str
    """'reminder:<minutes>', 'started' or 'ended'."""
    recipient: str = Field(default="", sa_column_kwargs={"server_default": ""})
    """'' for a post in the meeting's conversation; else the Slack user ID of the person it
    goes to by the app's DM (the conversation could not take it)."""
    due_at: datetime = Field(sa_type=UTCDateTime)
    claimed_by: str | None = None
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    slack_ts: str | None = None
    attempts: int = 0
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    payload: str | None = Field(default=None, sa_type=Text)
    """JSON facts a "started"/"ended" message reports (participants, lasted minutes)."""
    posting_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When a post began whose outcome is unknown; a retry looks for it in Slack first."""


class AuditLog(SQLModel, table=True):
    """Who changed what in a workspace. Append-only; no foreign key so it outlives its subject."""

    __tablename__: ClassVar[Any] = "audit_log"
    __table_args__: ClassVar[Any] = (Index("ix_audit_log_team_created", "team_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str
    actor_slack_id: str
    action: str
    target: str
    detail: str = Field(default="{}", sa_type=Text)
    """JSON object."""
    created_at: datetime = Field(sa_type=UTCDateTime)


class SeenKey(SQLModel, table=True):
    """A request identifier already acted on (a Slack trigger_id, a vendor push nonce), kept
    until it expires so that every replica refuses to act on it twice."""

    __tablename__: ClassVar[Any] = "seen_key"
    __table_args__: ClassVar[Any] = (Index("ix_seen_key_expires", "expires_at"),)

    scope: str = Field(primary_key=True)
    """What kind of identifier: 'slack.trigger', 'slack.action', 'slack.view', 'hcm.nonce'."""
    key: str = Field(primary_key=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)


# --- Slack installations (OAuth mode) -------------------------------------------------------
# slack_sdk's SQLAlchemy installation and OAuth-state stores (bot/slack/installs.py) read and
# write these three tables by the library's own names and columns; the library, not this
# package, writes them, so their datetimes are naive UTC as it stores them. Token columns are
# Text: they hold Fernet ciphertext (several times a token's length), never a token.
_TOKEN = Text


def _installation_columns(*extra: Column[Any]) -> list[Column[Any]]:
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("client_id", String(32), nullable=False),
        Column("app_id", String(32), nullable=False),
        Column("enterprise_id", String(32)),
        Column("enterprise_name", String(200)),
        Column("team_id", String(32)),
        Column("team_name", String(200)),
        Column("bot_token", _TOKEN),
        Column("bot_id", String(32)),
        Column("bot_user_id", String(32)),
        Column("bot_scopes", String(1000)),
        Column("bot_refresh_token", _TOKEN),
        Column("bot_token_expires_at", DateTime),
        Column("is_enterprise_install", Boolean, nullable=False),
        Column("installed_at", DateTime, nullable=False),
        *extra,
    ]


SLACK_BOTS: Table = Table(
    "slack_bots",
    SQLModel.metadata,
    *_installation_columns(),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)
SLACK_INSTALLATIONS: Table = Table(
    "slack_installations",
    SQLModel.metadata,
    *_installation_columns(
        Column("enterprise_url", String(200)),
        Column("user_id", String(32), nullable=False),
        Column("user_token", _TOKEN),
        Column("user_scopes", String(1000)),
        Column("user_refresh_token", _TOKEN),
        Column("user_token_expires_at", DateTime),
        Column("incoming_webhook_url", Text),
        Column("incoming_webhook_channel", String(200)),
        Column("incoming_webhook_channel_id", String(200)),
        Column("incoming_webhook_configuration_url", String(200)),
        Column("token_type", String(32)),
    ),
    Index(
        "slack_installations_idx",
        "client_id",
        "enterprise_id",
        "team_id",
        "user_id",
        "installed_at",
    ),
)
SLACK_OAUTH_STATES: Table = Table(
    "slack_oauth_states",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)
SLACK_GRID_TEAMS: Table = Table(
    "slack_grid_teams",
    SQLModel.metadata,
    Column("client_id", String(32), primary_key=True),
    Column("team_id", String(32), primary_key=True),
    Column("enterprise_id", String(32), nullable=False),
)
"""Which Enterprise Grid organisation a workspace belongs to, for a team served by an
org-wide install (whose bot row has no team): learnt from Slack's requests, so the scheduler,
which knows only a meeting's team, finds the organisation's token."""
