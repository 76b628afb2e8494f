"""The values the repository takes and returns: frozen dataclasses (never live ORM rows, so
nothing lazy-loads later on the event loop and encrypted columns never leave storage), the
ORM-row -> dataclass conversions and the encodings of the JSON and list text columns."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from storage.models import AuditLog, Delivery, Meeting, UserMapping, Workspace
from storage.vocabulary import MappingMode, MeetingState

__all__ = [
    "REMINDER_PREFIX",
    "AppSecrets",
    "AuditEntry",
    "ClaimedDelivery",
    "DeliveryRow",
    "MappingRow",
    "MeetingRow",
    "NewDelivery",
    "NewMeeting",
    "SentPost",
    "WorkspaceRow",
    "audit_entry",
    "delivery_row",
    "dumps",
    "encode_minutes",
    "encode_occurrences",
    "mapping_row",
    "meeting_row",
    "workspace_row",
]

REMINDER_PREFIX: Final = "reminder:"
"""The `kind` of a reminder delivery starts with this; the minutes before the start follow."""


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
    recipient: str = ""
    """'' for the meeting's conversation, else the user it goes to by the app's DM."""

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
    recipient: str = ""
    """'' for the meeting's conversation, else the user it goes to by the app's DM."""


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


# --- conversions and encodings ----------------------------------------------------------


def _id(value: int | None) -> int:
    if value is None:  # only for rows not yet flushed, which we never convert
        raise ValueError("row has no id")
    return value


def dumps(value: object) -> str:
    """JSON text for a JSON column (audit detail, recurrence, invitees, payloads)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def encode_minutes(minutes: tuple[int, ...] | None) -> str | None:
    """Reminder offsets as stored: distinct, largest first, comma separated."""
    if minutes is None:
        return None
    if any(not 0 <= m <= 7 * 24 * 60 for m in minutes):
        raise ValueError("reminder offsets must be between 0 and 10080 minutes")
    return ",".join(str(m) for m in sorted(set(minutes), reverse=True))


def _decode_minutes(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    return tuple(int(m) for m in text.split(",") if m)


def workspace_row(w: Workspace) -> WorkspaceRow:
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


def mapping_row(m: UserMapping) -> MappingRow:
    return MappingRow(
        team_id=m.team_id,
        slack_user_id=m.slack_user_id,
        third_party_id=m.third_party_id,
        created_by=m.created_by,
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


def meeting_row(m: Meeting) -> MeetingRow:
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


def delivery_row(d: Delivery) -> DeliveryRow:
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
        recipient=d.recipient,
    )


def encode_occurrences(starts: Sequence[datetime]) -> str | None:
    """Every start of a recurring meeting as stored (UTC ISO text, sorted); None for one."""
    if len(starts) < 2:
        return None
    return json.dumps(sorted(s.astimezone(UTC).isoformat() for s in starts))


def audit_entry(a: AuditLog) -> AuditEntry:
    return AuditEntry(
        id=_id(a.id),
        team_id=a.team_id,
        actor_slack_id=a.actor_slack_id,
        action=a.action,
        target=a.target,
        detail=json.loads(a.detail),
        created_at=a.created_at,
    )
