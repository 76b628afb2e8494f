"""All database queries, behind one `Repository`: one transaction per call, every query scoped
by workspace (team_id). Results are frozen dataclasses, never live ORM rows, so nothing
lazy-loads later on the event loop and encrypted columns never leave this module.

The only queries that span workspaces are the scheduler's maintenance queries:
`claim_due` (the delivery job queue) and the `all_workspaces_*` methods. They exist because
the scheduler serves every workspace from one loop; each result carries its team_id and the
scheduler must use it for any follow-up call.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import bindparam, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import SQLModel, col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import StorageError
from storage.models import (
    AuditLog,
    Delivery,
    MappingMode,
    Meeting,
    MeetingState,
    SeenKey,
    UserMapping,
    Workspace,
)
from storage.secrets import SecretBox

__all__ = [
    "AppSecrets",
    "AuditEntry",
    "ClaimedDelivery",
    "DeliveryRow",
    "MappingRow",
    "MeetingRow",
    "NewDelivery",
    "NewMeeting",
    "Repository",
    "SentPost",
    "WorkspaceRow",
]

LAST_ERROR_MAX: Final = 1000
"""Characters of a delivery error kept; enough to diagnose, bounded in size."""
MAINTENANCE_BATCH: Final = 100
"""Default page size of the cross-workspace maintenance queries."""
_OPEN_STATES: Final = (MeetingState.SCHEDULED.value, MeetingState.LIVE.value)
WATCH_LEAD: Final = timedelta(minutes=15)
"""The status poll watches a meeting from this long before its start (or its earliest
reminder, if that is earlier): people often start early."""
REMINDER_PREFIX: Final = "reminder:"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime; pass an aware (UTC) datetime")


# --- values in and out -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkspaceRow:
    """A workspace's settings. The app key is not here: see `Repository.get_app_credentials`."""

    team_id: str
    team_name: str | None
    app_id: str | None
    corp_id: str | None
    has_app_key: bool
    mapping_mode: MappingMode
    reminder_minutes: tuple[int, ...] | None
    """Offsets before the start, largest first; None means the global default."""
    reminder_channel_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AppSecrets:
    """A workspace's own meeting-service app, decrypted. `app_key` is kept out of repr()."""

    app_id: str
    app_key: str = field(repr=False)
    corp_id: str | None


@dataclass(frozen=True, slots=True)
class MappingRow:
    """An explicit Slack user -> third-party user ID mapping."""

    team_id: str
    slack_user_id: str
    third_party_id: str
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMeeting:
    """A meeting just created at the vendor, to be recorded."""

    conference_id: str
    organizer_slack_id: str
    organizer_third_party_id: str
    topic: str
    start_at: datetime
    duration_minutes: int
    tz_name: str
    channel_id: str | None = None
    is_instant: bool = False
    state: MeetingState = MeetingState.SCHEDULED
    recurrence: Mapping[str, object] | None = None
    guest_join_url: str | None = None
    invitees: tuple[str, ...] = ()
    occurrences: tuple[datetime, ...] = ()
    """Every start of a recurring meeting (the first is `start_at`); empty for a one-off."""

    def __post_init__(self) -> None:
        _require_aware(self.start_at)
        for start in self.occurrences:
            _require_aware(start)
        if self.duration_minutes <= 0:
            raise ValueError("duration_minutes must be positive")

    @property
    def end_at(self) -> datetime:
        return self.start_at + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True, slots=True)
class MeetingRow:
    """A recorded meeting."""

    id: int
    team_id: str
    conference_id: str
    organizer_slack_id: str
    organizer_third_party_id: str
    channel_id: str | None
    message_ts: str | None
    topic: str
    start_at: datetime
    end_at: datetime
    duration_minutes: int
    tz_name: str
    state: MeetingState
    is_instant: bool
    recurrence: Mapping[str, object] | None
    guest_join_url: str | None
    invitees: tuple[str, ...]
    participant_count: int | None
    started_at: datetime | None
    ended_at: datetime | None
    card_state: str | None
    created_at: datetime
    updated_at: datetime
    watch_from: datetime | None = None
    """From when the status poll asks the vendor about the current occurrence."""
    occurrences: tuple[datetime, ...] = ()
    """Every start of a recurring meeting; empty for a one-off."""
    slack_call_id: str | None = None
    """The Slack call object on the card (MEETBOT_SLACK_CALLS), until that call ends."""

    def next_occurrence(self) -> datetime | None:
        """The first occurrence after the current one (`start_at`), if any."""
        return next((s for s in self.occurrences if s > self.start_at), None)


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A message the bot will owe: `kind` is 'reminder:<minutes>', 'started' or 'ended'.

    `payload` holds the facts a "started"/"ended" message reports, fixed when they were seen.
    """

    occurrence: datetime
    kind: str
    due_at: datetime
    payload: Mapping[str, object] | None = None

    def __post_init__(self) -> None:
        _require_aware(self.occurrence)
        _require_aware(self.due_at)


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """A message the bot owes or has sent."""

    id: int
    team_id: str
    meeting_id: int
    occurrence: datetime
    kind: str
    due_at: datetime
    claimed_by: str | None
    claimed_until: datetime | None
    sent_at: datetime | None
    slack_ts: str | None
    attempts: int
    withdrawn_at: datetime | None
    last_error: str | None
    payload: Mapping[str, object] | None = None
    posting_at: datetime | None = None
    """When a post began whose outcome is unknown: look for it in Slack before posting."""


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery leased to one worker, with its meeting (to render the message)."""

    delivery: DeliveryRow
    meeting: MeetingRow


@dataclass(frozen=True, slots=True)
class SentPost:
    """A delivery this worker has posted, to be recorded (`Repository.mark_sent_many`)."""

    delivery_id: int
    slack_ts: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, when."""

    id: int
    team_id: str
    actor_slack_id: str
    action: str
    target: str
    detail: Mapping[str, object]
    created_at: datetime


def _id(value: int | None) -> int:
    if value is None:  # only for rows not yet flushed, which we never convert
        raise ValueError("row has no id")
    return value


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _encode_minutes(minutes: tuple[int, ...] | None) -> str | None:
    if minutes is None:
        return None
    if any(not 0 <= m <= 7 * 24 * 60 for m in minutes):
        raise ValueError("reminder offsets must be between 0 and 10080 minutes")
    return ",".join(str(m) for m in sorted(set(minutes), reverse=True))


def _decode_minutes(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    return tuple(int(m) for m in text.split(",") if m)


def _workspace_row(w: Workspace) -> WorkspaceRow:
    return WorkspaceRow(
        team_id=w.team_id,
        team_name=w.team_name,
        app_id=w.app_id,
        corp_id=w.corp_id,
        has_app_key=w.app_key_encrypted is not None,
        mapping_mode=MappingMode(w.mapping_mode),
        reminder_minutes=_decode_minutes(w.reminder_minutes),
        reminder_channel_id=w.reminder_channel_id,
        created_at=w.created_at,
        updated_at=w.updated_at,
    )


def _mapping_row(m: UserMapping) -> MappingRow:
    return MappingRow(
        team_id=m.team_id,
        slack_user_id=m.slack_user_id,
        third_party_id=m.third_party_id,
        created_by=m.created_by,
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


def _meeting_row(m: Meeting) -> MeetingRow:
    return MeetingRow(
        id=_id(m.id),
        team_id=m.team_id,
        conference_id=m.conference_id,
        organizer_slack_id=m.organizer_slack_id,
        organizer_third_party_id=m.organizer_third_party_id,
        channel_id=m.channel_id,
        message_ts=m.message_ts,
        topic=m.topic,
        start_at=m.start_at,
        end_at=m.end_at,
        duration_minutes=m.duration_minutes,
        tz_name=m.tz_name,
        state=MeetingState(m.state),
        is_instant=m.is_instant,
        recurrence=None if m.recurrence is None else json.loads(m.recurrence),
        guest_join_url=m.guest_join_url,
        invitees=tuple(json.loads(m.invitees)),
        participant_count=m.participant_count,
        started_at=m.started_at,
        ended_at=m.ended_at,
        card_state=m.card_state,
        created_at=m.created_at,
        updated_at=m.updated_at,
        watch_from=m.watch_from,
        occurrences=tuple(datetime.fromisoformat(s) for s in json.loads(m.occurrences or "[]")),
        slack_call_id=m.slack_call_id,
    )


def _held_by(team_id: str, delivery_id: int, worker_id: str) -> tuple[Any, ...]:
    """WHERE terms: the delivery is unsent and claimed by `worker_id` (a compare-and-set on
    the claim, so a worker whose lease was taken over changes nothing)."""
    return (
        col(Delivery.team_id) == team_id,
        col(Delivery.id) == delivery_id,
        col(Delivery.claimed_by) == worker_id,
        col(Delivery.sent_at).is_(None),
    )


def _insert_new_deliveries(
    session: AsyncSession, team_id: str, meeting_id: int, deliveries: Sequence[NewDelivery]
) -> postgresql.Insert | sqlite.Insert:
    """INSERT of `deliveries` for a meeting that skips any already owed (same occurrence, kind)."""
    rows = [
        {
            "team_id": team_id,
            "meeting_id": meeting_id,
            "occurrence": d.occurrence,
            "kind": d.kind,
            "due_at": d.due_at,
            "attempts": 0,
            "payload": None if d.payload is None else _dumps(d.payload),
        }
        for d in deliveries
    ]
    return (
        _insert(session, Delivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["team_id", "meeting_id", "occurrence", "kind"])
    )


def _delivery_row(d: Delivery) -> DeliveryRow:
    return DeliveryRow(
        id=_id(d.id),
        team_id=d.team_id,
        meeting_id=d.meeting_id,
        occurrence=d.occurrence,
        kind=d.kind,
        due_at=d.due_at,
        claimed_by=d.claimed_by,
        claimed_until=d.claimed_until,
        sent_at=d.sent_at,
        slack_ts=d.slack_ts,
        attempts=d.attempts,
        withdrawn_at=d.withdrawn_at,
        last_error=d.last_error,
        payload=None if d.payload is None else json.loads(d.payload),
        posting_at=d.posting_at,
    )


def _watch_from(start: datetime, deliveries: Sequence[NewDelivery]) -> datetime:
    """When the status poll starts watching the occurrence at `start`."""
    reminders = [
        d.due_at for d in deliveries if d.occurrence == start and d.kind.startswith(REMINDER_PREFIX)
    ]
    return min([start - WATCH_LEAD, *reminders])


def _encode_occurrences(starts: Sequence[datetime]) -> str | None:
    if len(starts) < 2:
        return None
    return json.dumps(sorted(s.astimezone(UTC).isoformat() for s in starts))


def _audit_entry(a: AuditLog) -> AuditEntry:
    return AuditEntry(
        id=_id(a.id),
        team_id=a.team_id,
        actor_slack_id=a.actor_slack_id,
        action=a.action,
        target=a.target,
        detail=json.loads(a.detail),
        created_at=a.created_at,
    )


def _insert(session: AsyncSession, model: type[SQLModel]) -> postgresql.Insert | sqlite.Insert:
    """INSERT with the dialect's ON CONFLICT support (both dialects spell it the same)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


# --- the repository ----------------------------------------------------------------------


class Repository:
    """Keyword-only async queries; each call is one transaction. See the module docstring."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        secret_box: SecretBox,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._sessions = sessions
        self._box = secret_box
        self._clock = clock

    def __repr__(self) -> str:
        return "Repository()"

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncSession]:
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            # The first line names the error; the statement and its parameters stay out.
            raise StorageError(str(exc).partition("\n")[0]) from exc

    def _audit_row(
        self,
        session: AsyncSession,
        *,
        team_id: str,
        actor: str,
        action: str,
        target: str,
        detail: Mapping[str, object],
    ) -> None:
        session.add(
            AuditLog(
                team_id=team_id,
                actor_slack_id=actor,
                action=action,
                target=target,
                detail=_dumps(detail),
                created_at=self._clock(),
            )
        )

    # workspaces

    async def _ensure_workspace(
        self, session: AsyncSession, team_id: str, team_name: str | None = None
    ) -> None:
        now = self._clock()
        stmt = _insert(session, Workspace).values(
            team_id=team_id,
            team_name=team_name,
            mapping_mode=MappingMode.EMAIL.value,
            created_at=now,
            updated_at=now,
        )
        if team_name is None:
            await session.exec(stmt.on_conflict_do_nothing(index_elements=["team_id"]))
        else:
            await session.exec(
                stmt.on_conflict_do_update(
                    index_elements=["team_id"], set_={"team_name": team_name}
                )
            )

    async def _locked_workspace(self, session: AsyncSession, team_id: str) -> Workspace:
        await self._ensure_workspace(session, team_id)
        query = select(Workspace).where(Workspace.team_id == team_id).with_for_update()
        return (await session.exec(query)).one()

    async def _change_workspace(
        self, *, team_id: str, actor: str, action: str, changes: Mapping[str, Any]
    ) -> None:
        async with self._tx() as session:
            row = await self._locked_workspace(session, team_id)
            old = {name: getattr(row, name) for name in changes}
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = self._clock()
            self._audit_row(
                session,
                team_id=team_id,
                actor=actor,
                action=action,
                target=team_id,
                detail={"old": old, "new": dict(changes)},
            )

    async def get_workspace(self, *, team_id: str) -> WorkspaceRow | None:
        """The workspace's settings, or None if it was never seen."""
        async with self._tx() as session:
            row = await session.get(Workspace, team_id)
            return None if row is None else _workspace_row(row)

    async def ensure_workspace(self, *, team_id: str, team_name: str | None = None) -> WorkspaceRow:
        """The workspace, created with default settings if new; `team_name` updates the name."""
        async with self._tx() as session:
            await self._ensure_workspace(session, team_id, team_name)
            row = (await session.exec(select(Workspace).where(Workspace.team_id == team_id))).one()
            return _workspace_row(row)

    async def set_app_credentials(
        self, *, team_id: str, app_id: str, app_key: str, corp_id: str | None, actor: str
    ) -> None:
        """Store the workspace's own meeting-service app; the key is encrypted at rest."""
        encrypted = self._box.encrypt(app_key)
        async with self._tx() as session:
            row = await self._locked_workspace(session, team_id)
            old = {"app_id": row.app_id, "corp_id": row.corp_id}
            row.app_id, row.app_key_encrypted, row.corp_id = app_id, encrypted, corp_id
            row.updated_at = self._clock()
            self._audit_row(
                session,
                team_id=team_id,
                actor=actor,
                action="workspace.credentials",
                target=team_id,
                detail={
                    "old": old,
                    "new": {"app_id": app_id, "corp_id": corp_id},
                    "app_key": "replaced",
                },
            )

    async def get_app_credentials(self, *, team_id: str) -> AppSecrets | None:
        """The workspace's own app, decrypted; None if it has none (use the global default).

        Raises storage.secrets.SecretDecryptError if no configured key opens the stored key.
        """
        async with self._tx() as session:
            row = await session.get(Workspace, team_id)
        if row is None or row.app_id is None or row.app_key_encrypted is None:
            return None
        return AppSecrets(
            app_id=row.app_id,
            app_key=self._box.decrypt(row.app_key_encrypted),
            corp_id=row.corp_id,
        )

    async def app_key_readable(self, *, team_id: str) -> bool:
        """Whether the workspace's stored app key (if any) opens with the configured secret
        keys; the key itself stays in here."""
        async with self._tx() as session:
            row = await session.get(Workspace, team_id)
        return (
            row is None or row.app_key_encrypted is None or self._box.opens(row.app_key_encrypted)
        )

    async def all_workspaces_unreadable_keys(self) -> list[str]:
        """Team IDs whose stored app key no configured secret key opens (checked at start-up)."""
        async with self._tx() as session:
            query = select(Workspace.team_id, Workspace.app_key_encrypted).where(
                col(Workspace.app_key_encrypted).is_not(None)
            )
            rows = (await session.exec(query)).all()
        return [team_id for team_id, token in rows if token and not self._box.opens(token)]

    async def set_mapping_mode(self, *, team_id: str, mode: MappingMode, actor: str) -> None:
        """How Slack users become third-party IDs in this workspace."""
        await self._change_workspace(
            team_id=team_id,
            actor=actor,
            action="workspace.mapping_mode",
            changes={"mapping_mode": MappingMode(mode).value},
        )

    async def set_reminders(
        self, *, team_id: str, minutes: tuple[int, ...] | None, actor: str
    ) -> None:
        """Reminder offsets in minutes before the start; () for none, None for the default."""
        await self._change_workspace(
            team_id=team_id,
            actor=actor,
            action="workspace.reminders",
            changes={"reminder_minutes": _encode_minutes(minutes)},
        )

    async def set_reminder_channel(
        self, *, team_id: str, channel_id: str | None, actor: str
    ) -> None:
        """Where reminders go; None means the meeting's own channel."""
        await self._change_workspace(
            team_id=team_id,
            actor=actor,
            action="workspace.reminder_channel",
            changes={"reminder_channel_id": channel_id},
        )

    # user mappings

    async def get_mapping(self, *, team_id: str, slack_user_id: str) -> str | None:
        """The third-party ID an admin mapped this user to, if any."""
        async with self._tx() as session:
            query = select(UserMapping.third_party_id).where(
                UserMapping.team_id == team_id, UserMapping.slack_user_id == slack_user_id
            )
            return (await session.exec(query)).one_or_none()

    async def set_mapping(
        self, *, team_id: str, slack_user_id: str, third_party_id: str, actor: str
    ) -> None:
        """Map (or re-map) a Slack user to a third-party ID; audited with old and new value."""
        async with self._tx() as session:
            await self._ensure_workspace(session, team_id)
            old_query = select(UserMapping.third_party_id).where(
                UserMapping.team_id == team_id, UserMapping.slack_user_id == slack_user_id
            )
            old = (await session.exec(old_query)).one_or_none()
            now = self._clock()
            stmt = _insert(session, UserMapping).values(
                team_id=team_id,
                slack_user_id=slack_user_id,
                third_party_id=third_party_id,
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
            await session.exec(
                stmt.on_conflict_do_update(
                    index_elements=["team_id", "slack_user_id"],
                    set_={"third_party_id": third_party_id, "updated_at": now},
                )
            )
            self._audit_row(
                session,
                team_id=team_id,
                actor=actor,
                action="mapping.set",
                target=slack_user_id,
                detail={"old": old, "new": third_party_id},
            )

    async def delete_mapping(self, *, team_id: str, slack_user_id: str, actor: str) -> bool:
        """Remove a user's mapping; False if there was none."""
        async with self._tx() as session:
            stmt = (
                delete(UserMapping)
                .where(
                    col(UserMapping.team_id) == team_id,
                    col(UserMapping.slack_user_id) == slack_user_id,
                )
                .returning(col(UserMapping.third_party_id))
            )
            old = (await session.exec(stmt)).scalar_one_or_none()
            if old is None:
                return False
            self._audit_row(
                session,
                team_id=team_id,
                actor=actor,
                action="mapping.delete",
                target=slack_user_id,
                detail={"old": old},
            )
            return True

    async def list_mappings(
        self, *, team_id: str, offset: int, limit: int
    ) -> tuple[list[MappingRow], int]:
        """One page of the workspace's mappings (by Slack user ID) and the total count."""
        async with self._tx() as session:
            total_query = select(func.count()).where(UserMapping.team_id == team_id)
            total = (await session.exec(total_query)).one()
            page_query = (
                select(UserMapping)
                .where(UserMapping.team_id == team_id)
                .order_by(col(UserMapping.slack_user_id))
                .offset(offset)
                .limit(limit)
            )
            rows = (await session.exec(page_query)).all()
            return [_mapping_row(r) for r in rows], total

    # meetings

    async def _meeting(
        self, session: AsyncSession, team_id: str, meeting_id: int
    ) -> Meeting | None:
        query = select(Meeting).where(Meeting.team_id == team_id, Meeting.id == meeting_id)
        return (await session.exec(query)).one_or_none()

    async def add_meeting(
        self, *, team_id: str, meeting: NewMeeting, deliveries: Sequence[NewDelivery]
    ) -> MeetingRow:
        """Record a meeting and the messages it owes, atomically.

        Idempotent on (team_id, conference_id): if the meeting is already recorded, that row
        is returned and nothing is added.
        """
        async with self._tx() as session:
            await self._ensure_workspace(session, team_id)
            now = self._clock()
            stmt = (
                _insert(session, Meeting)
                .values(
                    team_id=team_id,
                    conference_id=meeting.conference_id,
                    organizer_slack_id=meeting.organizer_slack_id,
                    organizer_third_party_id=meeting.organizer_third_party_id,
                    channel_id=meeting.channel_id,
                    topic=meeting.topic,
                    start_at=meeting.start_at,
                    end_at=meeting.end_at,
                    duration_minutes=meeting.duration_minutes,
                    tz_name=meeting.tz_name,
                    state=MeetingState(meeting.state).value,
                    is_instant=meeting.is_instant,
                    recurrence=None if meeting.recurrence is None else _dumps(meeting.recurrence),
                    guest_join_url=meeting.guest_join_url,
                    invitees=_dumps(list(meeting.invitees)),
                    created_at=now,
                    updated_at=now,
                    watch_from=_watch_from(meeting.start_at, deliveries),
                    occurrences=_encode_occurrences(meeting.occurrences),
                )
                .on_conflict_do_nothing(index_elements=["team_id", "conference_id"])
                .returning(col(Meeting.id))
            )
            new_id = (await session.exec(stmt)).scalar_one_or_none()
            if new_id is not None:
                session.add_all(
                    Delivery(
                        team_id=team_id,
                        meeting_id=new_id,
                        occurrence=d.occurrence,
                        kind=d.kind,
                        due_at=d.due_at,
                        payload=None if d.payload is None else _dumps(d.payload),
                    )
                    for d in deliveries
                )
                await session.flush()
            query = select(Meeting).where(
                Meeting.team_id == team_id, Meeting.conference_id == meeting.conference_id
            )
            return _meeting_row((await session.exec(query)).one())

    async def get_meeting(self, *, team_id: str, meeting_id: int) -> MeetingRow | None:
        """A meeting of this workspace by our id."""
        async with self._tx() as session:
            row = await self._meeting(session, team_id, meeting_id)
            return None if row is None else _meeting_row(row)

    async def get_meeting_by_conference(
        self, *, team_id: str, conference_id: str
    ) -> MeetingRow | None:
        """A meeting of this workspace by the vendor's conference ID."""
        async with self._tx() as session:
            query = select(Meeting).where(
                Meeting.team_id == team_id, Meeting.conference_id == conference_id
            )
            row = (await session.exec(query)).one_or_none()
            return None if row is None else _meeting_row(row)

    async def upcoming_meetings(
        self, *, team_id: str, organizer_slack_id: str | None, now: datetime, limit: int
    ) -> list[MeetingRow]:
        """Live meetings and scheduled ones not yet over, earliest start first; optionally
        only those of one organizer."""
        async with self._tx() as session:
            query = select(Meeting).where(
                Meeting.team_id == team_id,
                or_(
                    col(Meeting.state) == MeetingState.LIVE.value,
                    (col(Meeting.state) == MeetingState.SCHEDULED.value)
                    & (col(Meeting.end_at) > now),
                ),
            )
            if organizer_slack_id is not None:
                query = query.where(Meeting.organizer_slack_id == organizer_slack_id)
            query = query.order_by(col(Meeting.start_at), col(Meeting.id)).limit(limit)
            return [_meeting_row(r) for r in (await session.exec(query)).all()]

    async def set_card(
        self,
        *,
        team_id: str,
        meeting_id: int,
        channel_id: str,
        message_ts: str,
        card_state: str | None,
    ) -> MeetingRow | None:
        """Record where the meeting's card is posted and the state it last showed."""
        async with self._tx() as session:
            row = await self._meeting(session, team_id, meeting_id)
            if row is None:
                return None
            row.channel_id, row.message_ts, row.card_state = channel_id, message_ts, card_state
            row.updated_at = self._clock()
            await session.flush()
            return _meeting_row(row)

    async def cancel_meeting(
        self, *, team_id: str, meeting_id: int, actor: str
    ) -> MeetingRow | None:
        """Cancel a scheduled or live meeting and withdraw every message not yet sent.

        None if there is no such meeting; an ended or already cancelled meeting is returned
        unchanged (and nothing is audited).
        """
        async with self._tx() as session:
            row = await self._meeting(session, team_id, meeting_id)
            if row is None or row.state not in _OPEN_STATES:
                return None if row is None else _meeting_row(row)
            now = self._clock()
            old_state = row.state
            row.state, row.updated_at = MeetingState.CANCELLED.value, now
            withdrawn = await self._withdraw(session, team_id, meeting_id, now)
            self._audit_row(
                session,
                team_id=team_id,
                actor=actor,
                action="meeting.cancel",
                target=row.conference_id,
                detail={"meeting_id": meeting_id, "old_state": old_state, "withdrawn": withdrawn},
            )
            await session.flush()
            return _meeting_row(row)

    async def update_meeting_state(
        self,
        *,
        team_id: str,
        meeting_id: int,
        state: MeetingState,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        participant_count: int | None = None,
    ) -> MeetingRow | None:
        """Record the state the vendor reports; None arguments leave the stored value."""
        async with self._tx() as session:
            row = await self._meeting(session, team_id, meeting_id)
            if row is None:
                return None
            row.state = MeetingState(state).value
            if started_at is not None:
                row.started_at = started_at
            if ended_at is not None:
                row.ended_at = ended_at
            if participant_count is not None:
                row.participant_count = participant_count
            row.updated_at = self._clock()
            await session.flush()
            return _meeting_row(row)

    async def all_workspaces_meetings_without_card(
        self, *, created_before: datetime, limit: int = MAINTENANCE_BATCH
    ) -> list[MeetingRow]:
        """Open meetings whose card was never posted (a crash between create and post).

        Cross-workspace on purpose: the scheduler repairs these for every workspace.
        `created_before` leaves alone meetings whose request is still posting its card.
        """
        async with self._tx() as session:
            query = (
                select(Meeting)
                .where(
                    col(Meeting.message_ts).is_(None),
                    col(Meeting.state).in_(_OPEN_STATES),
                    col(Meeting.created_at) < created_before,
                )
                .order_by(col(Meeting.created_at), col(Meeting.id))
                .limit(limit)
            )
            return [_meeting_row(r) for r in (await session.exec(query)).all()]

    async def all_workspaces_meetings_to_poll(
        self,
        *,
        starting_before: datetime | None = None,
        watching_at: datetime | None = None,
        conference_id: str | None = None,
        after: tuple[str, int] | None = None,
        limit: int = MAINTENANCE_BATCH,
    ) -> list[MeetingRow]:
        """Open meetings the status machinery looks at, by (team_id, start, id) -- or by
        (team_id, id) when paging with `after`.

        Filters (all optional, combined): `starting_before` (start before now + a lead),
        `watching_at` (the watch has begun: `watch_from <= watching_at`), `conference_id`
        (the vendor's push names only that). Page with `after` = (team_id, id) of the last
        row of the previous page.

        Cross-workspace on purpose: the status poll batches vendor calls per workspace.
        """
        async with self._tx() as session:
            query = select(Meeting).where(col(Meeting.state).in_(_OPEN_STATES))
            if starting_before is not None:
                query = query.where(col(Meeting.start_at) < starting_before)
            if watching_at is not None:
                query = query.where(col(Meeting.watch_from) <= watching_at)
            if conference_id is not None:
                query = query.where(Meeting.conference_id == conference_id)
            if after is None:
                query = query.order_by(col(Meeting.team_id), col(Meeting.start_at), col(Meeting.id))
            else:
                team, last_id = after
                query = query.where(
                    or_(
                        col(Meeting.team_id) > team,
                        (col(Meeting.team_id) == team) & (col(Meeting.id) > last_id),
                    )
                ).order_by(col(Meeting.team_id), col(Meeting.id))
            return [_meeting_row(r) for r in (await session.exec(query.limit(limit))).all()]

    async def transition_meeting(
        self,
        *,
        team_id: str,
        meeting_id: int,
        expect_state: MeetingState,
        expect_start: datetime,
        state: MeetingState,
        started_at: datetime | None = None,
        ended_at: datetime | None = None,
        participant_count: int | None = None,
        next_start: datetime | None = None,
        deliveries: Sequence[NewDelivery] = (),
        withdraw_reminders: bool = False,
    ) -> MeetingRow | None:
        """Apply a live-status change and enqueue what it owes, atomically.

        Compare-and-set: nothing happens (None) unless the meeting is still in `expect_state`
        at the occurrence `expect_start`, so two replicas seeing the same change apply it
        once. `withdraw_reminders` withdraws the unsent reminders of that occurrence (it is
        over). `next_start` moves a recurring meeting on to that occurrence: it is scheduled
        again and its live facts are cleared.
        """
        async with self._tx() as session:
            query = (
                select(Meeting)
                .where(Meeting.team_id == team_id, Meeting.id == meeting_id)
                .with_for_update()
            )
            row = (await session.exec(query)).one_or_none()
            if row is None or row.state != expect_state.value or row.start_at != expect_start:
                return None
            now = self._clock()
            if next_start is not None:
                pending = select(col(Delivery.due_at)).where(
                    Delivery.team_id == team_id,
                    Delivery.meeting_id == meeting_id,
                    Delivery.occurrence == next_start,
                    col(Delivery.kind).startswith(REMINDER_PREFIX),
                    col(Delivery.withdrawn_at).is_(None),
                )
                dues = list((await session.exec(pending)).all())
                row.state = MeetingState.SCHEDULED.value
                row.start_at = next_start
                row.end_at = next_start + timedelta(minutes=row.duration_minutes)
                row.watch_from = min([next_start - WATCH_LEAD, *dues])
                row.started_at = row.ended_at = row.participant_count = None
            else:
                row.state = MeetingState(state).value
                if started_at is not None:
                    row.started_at = started_at
                if ended_at is not None:
                    row.ended_at = ended_at
                if participant_count is not None:
                    row.participant_count = participant_count
            row.updated_at = now
            if withdraw_reminders:
                await session.exec(
                    update(Delivery)
                    .where(
                        col(Delivery.team_id) == team_id,
                        col(Delivery.meeting_id) == meeting_id,
                        col(Delivery.occurrence) == expect_start,
                        col(Delivery.kind).startswith(REMINDER_PREFIX),
                        col(Delivery.sent_at).is_(None),
                        col(Delivery.withdrawn_at).is_(None),
                    )
                    .values(withdrawn_at=now)
                    .execution_options(synchronize_session=False)
                )
            if deliveries:
                await session.exec(_insert_new_deliveries(session, team_id, meeting_id, deliveries))
            await session.flush()
            return _meeting_row(row)

    async def set_participant_count(
        self, *, team_id: str, meeting_id: int, count: int
    ) -> MeetingRow | None:
        """Record a live meeting's head count; the row only if the count changed."""
        async with self._tx() as session:
            stmt = (
                update(Meeting)
                .where(
                    col(Meeting.team_id) == team_id,
                    col(Meeting.id) == meeting_id,
                    col(Meeting.state) == MeetingState.LIVE.value,
                    or_(
                        col(Meeting.participant_count).is_(None),
                        col(Meeting.participant_count) != count,
                    ),
                )
                .values(participant_count=count, updated_at=self._clock())
                .execution_options(synchronize_session=False)
            )
            if (await session.exec(stmt)).rowcount != 1:
                return None
            row = await self._meeting(session, team_id, meeting_id)
            return None if row is None else _meeting_row(row)

    async def set_card_state(self, *, team_id: str, meeting_id: int, card_state: str) -> None:
        """Record the state the meeting's card last showed."""
        async with self._tx() as session:
            await session.exec(
                update(Meeting)
                .where(col(Meeting.team_id) == team_id, col(Meeting.id) == meeting_id)
                .values(card_state=card_state)
                .execution_options(synchronize_session=False)
            )

    async def set_call(
        self, *, team_id: str, meeting_id: int, call_id: str | None
    ) -> MeetingRow | None:
        """Record (or, with None, forget) the Slack call object shown on the meeting's card."""
        async with self._tx() as session:
            row = await self._meeting(session, team_id, meeting_id)
            if row is None:
                return None
            row.slack_call_id = call_id
            row.updated_at = self._clock()
            session.add(row)
            await session.flush()
            return _meeting_row(row)

    # deliveries

    async def deliveries(self, *, team_id: str, meeting_id: int) -> list[DeliveryRow]:
        """Every message owed or sent for a meeting, by due time."""
        async with self._tx() as session:
            query = (
                select(Delivery)
                .where(Delivery.team_id == team_id, Delivery.meeting_id == meeting_id)
                .order_by(col(Delivery.due_at), col(Delivery.id))
            )
            return [_delivery_row(r) for r in (await session.exec(query)).all()]

    async def enqueue_deliveries(
        self, *, team_id: str, meeting_id: int, deliveries: Sequence[NewDelivery]
    ) -> int:
        """Add messages owed for an existing meeting, skipping any already recorded
        (same occurrence and kind); returns how many were new."""
        if not deliveries:
            return 0
        async with self._tx() as session:
            if await self._meeting(session, team_id, meeting_id) is None:
                return 0
            stmt = _insert_new_deliveries(session, team_id, meeting_id, deliveries).returning(
                col(Delivery.id)
            )
            return len((await session.exec(stmt)).all())

    async def _withdraw(
        self, session: AsyncSession, team_id: str, meeting_id: int, now: datetime
    ) -> int:
        stmt = (
            update(Delivery)
            .where(
                col(Delivery.team_id) == team_id,
                col(Delivery.meeting_id) == meeting_id,
                col(Delivery.sent_at).is_(None),
                col(Delivery.withdrawn_at).is_(None),
            )
            .values(withdrawn_at=now)
            .execution_options(synchronize_session=False)
        )
        return (await session.exec(stmt)).rowcount

    async def withdraw_pending(self, *, team_id: str, meeting_id: int) -> int:
        """Withdraw every unsent message of a meeting; returns how many."""
        async with self._tx() as session:
            return await self._withdraw(session, team_id, meeting_id, self._clock())

    async def claim_due(
        self, *, now: datetime, worker_id: str, lease_seconds: float, limit: int
    ) -> list[ClaimedDelivery]:
        """Lease up to `limit` due, unsent, unwithdrawn deliveries to `worker_id`, oldest first.

        Cross-workspace on purpose: this is the scheduler's job queue. A delivery is free if
        nobody holds it or its lease has expired (a worker died mid-post). On PostgreSQL rows
        another transaction is claiming are skipped (FOR UPDATE SKIP LOCKED), so concurrent
        replicas never get the same row; SQLite serialises writers (BEGIN IMMEDIATE).
        """
        async with self._tx() as session:
            due = (
                select(col(Delivery.id))
                .where(
                    col(Delivery.due_at) <= now,
                    col(Delivery.sent_at).is_(None),
                    col(Delivery.withdrawn_at).is_(None),
                    or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) <= now),
                )
                .order_by(col(Delivery.due_at), col(Delivery.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
                .cte("due")
            )
            stmt = (
                update(Delivery)
                .where(col(Delivery.id).in_(select(due.c.id)))
                .values(
                    claimed_by=worker_id,
                    claimed_until=now + timedelta(seconds=lease_seconds),
                    attempts=col(Delivery.attempts) + 1,
                )
                .returning(Delivery)
                .execution_options(synchronize_session=False)
            )
            claimed = sorted(
                (await session.exec(stmt)).scalars().all(), key=lambda d: (d.due_at, d.id)
            )
            if not claimed:
                return []
            meetings_query = select(Meeting).where(
                col(Meeting.id).in_({d.meeting_id for d in claimed})
            )
            meetings = {m.id: m for m in (await session.exec(meetings_query)).all()}
            return [
                ClaimedDelivery(_delivery_row(d), _meeting_row(meetings[d.meeting_id]))
                for d in claimed
            ]

    async def renew_claim(
        self,
        *,
        team_id: str,
        delivery_id: int,
        worker_id: str,
        now: datetime,
        lease_seconds: float,
    ) -> datetime | None:
        """Extend `worker_id`'s claim to now + lease and mark a post as begun (`posting_at`);
        call it right before posting.

        The new lease end, or None if the claim is no longer this worker's (another worker
        took it over after it expired) or the delivery was sent or withdrawn meanwhile.
        """
        until = now + timedelta(seconds=lease_seconds)
        async with self._tx() as session:
            stmt = (
                update(Delivery)
                .where(
                    *_held_by(team_id, delivery_id, worker_id),
                    col(Delivery.withdrawn_at).is_(None),
                )
                .values(claimed_until=until, posting_at=func.coalesce(Delivery.posting_at, now))
                .execution_options(synchronize_session=False)
            )
            return until if (await session.exec(stmt)).rowcount == 1 else None

    async def mark_posting(
        self, *, team_id: str, delivery_ids: Sequence[int], worker_id: str, now: datetime
    ) -> None:
        """Mark claimed deliveries as about to be posted (`posting_at`), in one statement:
        from here on a worker that takes one over looks for an earlier post first."""
        if not delivery_ids:
            return
        async with self._tx() as session:
            await session.exec(
                update(Delivery)
                .where(
                    col(Delivery.team_id) == team_id,
                    col(Delivery.id).in_(list(delivery_ids)),
                    col(Delivery.claimed_by) == worker_id,
                    col(Delivery.posting_at).is_(None),
                )
                .values(posting_at=now)
                .execution_options(synchronize_session=False)
            )

    async def withdraw_delivery(
        self, *, team_id: str, delivery_id: int, worker_id: str, reason: str
    ) -> bool:
        """Withdraw one claimed delivery that must never be posted (its meeting is over,
        or Slack refuses the channel for good), recording why."""
        async with self._tx() as session:
            stmt = (
                update(Delivery)
                .where(
                    *_held_by(team_id, delivery_id, worker_id),
                    col(Delivery.withdrawn_at).is_(None),
                )
                .values(
                    withdrawn_at=self._clock(),
                    claimed_until=None,
                    last_error=reason[:LAST_ERROR_MAX],
                )
                .execution_options(synchronize_session=False)
            )
            return (await session.exec(stmt)).rowcount == 1

    async def mark_sent(
        self, *, team_id: str, delivery_id: int, worker_id: str, slack_ts: str, sent_at: datetime
    ) -> bool:
        """Record that `worker_id` posted the delivery. False if another worker has taken the
        claim over (its post wins); True again for a repeated call by the same worker."""
        async with self._tx() as session:
            stmt = (
                update(Delivery)
                .where(
                    *_held_by(team_id, delivery_id, worker_id),
                )
                .values(sent_at=sent_at, slack_ts=slack_ts, claimed_until=None, last_error=None)
                .execution_options(synchronize_session=False)
            )
            if (await session.exec(stmt)).rowcount == 1:
                return True
            query = select(Delivery).where(Delivery.team_id == team_id, Delivery.id == delivery_id)
            row = (await session.exec(query)).one_or_none()
            return (
                row is not None
                and row.sent_at is not None
                and row.claimed_by == worker_id
                and row.slack_ts == slack_ts
            )

    async def mark_sent_many(
        self, *, team_id: str, sent: Sequence[SentPost], worker_id: str, sent_at: datetime
    ) -> set[int]:
        """`mark_sent` for many posts in one transaction, each row still a compare-and-set
        on `worker_id`'s claim; the ids recorded as this worker's posts (as `mark_sent`)."""
        if not sent:
            return set()
        table = Delivery.__table__  # type: ignore[attr-defined]
        stmt = (
            table.update()
            .where(
                table.c.team_id == team_id,
                table.c.id == bindparam("b_id"),
                table.c.claimed_by == worker_id,
                table.c.sent_at.is_(None),
            )
            .values(
                sent_at=sent_at, slack_ts=bindparam("b_ts"), claimed_until=None, last_error=None
            )
        )
        async with self._tx() as session:
            conn = await session.connection()
            await conn.execute(
                stmt,
                [{"b_id": p.delivery_id, "b_ts": p.slack_ts} for p in sent],
            )
            query = (
                table.select()
                .with_only_columns(
                    table.c.id,
                    table.c.team_id,
                    table.c.claimed_by,
                    table.c.sent_at,
                    table.c.slack_ts,
                )
                .where(table.c.team_id == team_id, table.c.id.in_([p.delivery_id for p in sent]))
            )
            rows = {r.id: r for r in await conn.execute(query)}
        recorded = set()
        for p in sent:
            row = rows.get(p.delivery_id)
            if (
                row is not None
                and row.sent_at is not None
                and row.claimed_by == worker_id
                and row.slack_ts == p.slack_ts
            ):
                recorded.add(p.delivery_id)
        return recorded

    async def release(
        self,
        *,
        team_id: str,
        delivery_id: int,
        worker_id: str,
        error: str,
        retry_at: datetime | None = None,
        posted: bool | None = None,
    ) -> bool:
        """Give a claimed delivery back after a failed post, recording the error.

        It is claimable again at once, or from `retry_at` (backoff). `posted=False` says
        Slack answered and certainly did not post (clears `posting_at`: no lookup needed on
        retry); None leaves an unknown outcome marked. False if the claim is no longer this
        worker's or the delivery was sent.
        """
        async with self._tx() as session:
            stmt = (
                update(Delivery)
                .where(
                    *_held_by(team_id, delivery_id, worker_id),
                )
                .values(
                    claimed_by=None,
                    claimed_until=retry_at,
                    last_error=error[:LAST_ERROR_MAX],
                    **({"posting_at": None} if posted is False else {}),
                )
                .execution_options(synchronize_session=False)
            )
            return (await session.exec(stmt)).rowcount == 1

    # idempotency

    async def first_sight(self, *, scope: str, key: str, ttl: timedelta) -> bool:
        """True the first time `key` is seen in `scope` within `ttl`, False on every repeat,
        whichever process asks. Expired keys of the scope are dropped on the way."""
        now = self._clock()
        async with self._tx() as session:
            await session.exec(
                delete(SeenKey)
                .where(col(SeenKey.scope) == scope, col(SeenKey.expires_at) <= now)
                .execution_options(synchronize_session=False)
            )
            stmt = (
                _insert(session, SeenKey)
                .values(scope=scope, key=key, expires_at=now + ttl)
                .on_conflict_do_nothing(index_elements=["scope", "key"])
                .returning(col(SeenKey.key))
            )
            return (await session.exec(stmt)).first() is not None

    # audit

    async def audit(
        self,
        *,
        team_id: str,
        actor_slack_id: str,
        action: str,
        target: str,
        detail: Mapping[str, object],
    ) -> None:
        """Append an audit entry (detail must be JSON-serialisable; others become str)."""
        async with self._tx() as session:
            self._audit_row(
                session,
                team_id=team_id,
                actor=actor_slack_id,
                action=action,
                target=target,
                detail=detail,
            )

    async def audit_entries(self, *, team_id: str, limit: int) -> list[AuditEntry]:
        """The workspace's newest audit entries first."""
        async with self._tx() as session:
            query = (
                select(AuditLog)
                .where(AuditLog.team_id == team_id)
                .order_by(col(AuditLog.created_at).desc(), col(AuditLog.id).desc())
                .limit(limit)
            )
            return [_audit_entry(r) for r in (await session.exec(query)).all()]
