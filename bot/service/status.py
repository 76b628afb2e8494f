"""Pure live-status rules: what the vendor's answers mean for a meeting (`decide_status`), and
what the tick does with an owed message (`delivery_fate`, `superseded`). No I/O, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from bot.huawei.answers import Conference, ConferenceState
from bot.rules import MeetingState
from bot.service.ports import DeliveryRow, MeetingRow
from storage.repo import REMINDER_PREFIX

__all__ = [
    "HISTORY_GRACE",
    "HISTORY_SLACK",
    "LATE_AFTER",
    "Decision",
    "Fate",
    "StatusChange",
    "StatusKind",
    "decide_status",
    "delivery_fate",
    "dm_recipients",
    "lasted_minutes",
    "occurrence_over",
    "pick_session",
    "superseded",
]

HISTORY_GRACE: Final = timedelta(minutes=10)
"""A meeting gone from the online list but not (yet) in history is declared ended, at the
time we noticed, only this long after its scheduled end: history can lag."""
HISTORY_SLACK: Final = timedelta(minutes=1)
"""History times have minute precision."""


class StatusKind(StrEnum):
    """What changed about a meeting's live state."""

    STARTED = "started"
    ENDED = "ended"
    NOT_HELD = "not_held"
    """Its scheduled end passed and it never started: it ends quietly (no thread reply)."""
    PARTICIPANTS = "participants"


@dataclass(frozen=True, slots=True)
class Decision:
    """What the vendor's answer means for one meeting (see `decide_status`)."""

    kind: StatusKind
    started_at: datetime | None = None
    ended_at: datetime | None = None
    participants: int | None = None
    also_started: bool = False
    """ENDED for a meeting we never saw live (it started and ended between two looks)."""


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A change applied to a meeting; `meeting` is the row afterwards (a recurring meeting has
    already moved on to its next occurrence). Listeners (the card, Slack Calls) react to it."""

    kind: StatusKind
    meeting: MeetingRow
    occurrence: datetime
    participants: int | None = None
    lasted_minutes: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


def lasted_minutes(started_at: datetime, ended_at: datetime) -> int:
    """Whole minutes between two vendor times (never negative)."""
    return max(0, int((ended_at - started_at).total_seconds() // 60))


def pick_session(meeting: MeetingRow, records: Sequence[Conference]) -> Conference | None:
    """The history record of the meeting's current session: the latest one of its conference
    that ended after we last knew it was not over (earlier occurrences ended before that)."""
    floor = (
        meeting.started_at
        if meeting.state is MeetingState.LIVE and meeting.started_at
        else (meeting.watch_from or meeting.start_at)
    ) - HISTORY_SLACK
    found = [
        r
        for r in records
        if r.conference_id == meeting.conference_id
        and r.start is not None
        and r.end is not None
        and r.end >= floor
    ]
    return max(found, key=lambda r: r.start or meeting.start_at, default=None)


def decide_status(
    meeting: MeetingRow,
    *,
    online: Conference | None,
    record: Conference | None,
    now: datetime,
) -> Decision | None:
    """What the vendor's online list (`online`: the meeting's entry, if running) and history
    (`record`: its ended session, see `pick_session`) mean for `meeting`; None: no change.

    An online entry in a state the vendor documents no meaning for says nothing: the meeting
    is neither started nor ended by it (nor by its absence from history) until it reads again.
    """
    if online is not None and online.state is ConferenceState.UNKNOWN:
        return None
    if meeting.state is MeetingState.SCHEDULED:
        if online is not None:
            return Decision(
                StatusKind.STARTED, started_at=now, participants=online.online_attendee_amount
            )
        if record is not None and record.start and record.end:
            return Decision(
                StatusKind.ENDED, started_at=record.start, ended_at=record.end, also_started=True
            )
        if now >= meeting.end_at:
            return Decision(StatusKind.NOT_HELD)
        return None
    if meeting.state is not MeetingState.LIVE:
        return None
    if online is not None:
        count = online.online_attendee_amount
        if count is not None and count != meeting.participant_count:
            return Decision(StatusKind.PARTICIPANTS, participants=count)
        return None
    if record is not None and record.start and record.end:
        return Decision(StatusKind.ENDED, started_at=record.start, ended_at=record.end)
    began = meeting.started_at or meeting.start_at
    overdue = max(meeting.end_at, began + timedelta(minutes=meeting.duration_minutes))
    if now >= overdue + HISTORY_GRACE:
        return Decision(StatusKind.ENDED, started_at=began, ended_at=now)
    return None


class Fate(StrEnum):
    """What the tick does with a claimed delivery."""

    POST = "post"
    DROP = "drop"
    """Never post: withdraw it (the occurrence is over, the meeting cancelled)."""
    LATE = "late"
    """Never post: it is more than LATE_AFTER past due (withdraw it, saying so)."""
    WAIT = "wait"
    """Not yet: the card it replies under is not posted yet."""
    TO_PEOPLE = "to_people"
    """The conversation cannot take it (the card was shown privately): send it to the
    organizer and each invitee by the app's DM instead."""


LATE_AFTER: Final = timedelta(hours=1)
"""An owed message not posted this long after its due time is dropped as late."""


def occurrence_over(meeting: MeetingRow, occurrence: datetime, now: datetime) -> bool:
    """Whether the occurrence starting at `occurrence` has ended (or will never happen)."""
    if meeting.state in (MeetingState.ENDED, MeetingState.CANCELLED):
        return True
    if occurrence < meeting.start_at:
        return True  # a recurring meeting has moved on past it
    if occurrence > meeting.start_at or meeting.state is MeetingState.LIVE:
        return False
    return now >= occurrence + timedelta(minutes=meeting.duration_minutes)


def superseded(deliveries: Sequence[DeliveryRow]) -> set[int]:
    """Ids of reminders made pointless by a later reminder of the same occurrence (for the
    same recipient) that is due as well (the bot was down across both): only the latest goes
    out, late."""
    latest: dict[tuple[str, int, datetime, str], DeliveryRow] = {}
    for d in deliveries:
        if d.kind.startswith(REMINDER_PREFIX):
            key = (d.team_id, d.meeting_id, d.occurrence, d.recipient)
            if key not in latest or d.due_at > latest[key].due_at:
                latest[key] = d
    keep = {d.id for d in latest.values()}
    return {d.id for d in deliveries if d.kind.startswith(REMINDER_PREFIX) and d.id not in keep}


def dm_recipients(meeting: MeetingRow) -> tuple[str, ...]:
    """Who gets a message by DM when the meeting's conversation cannot take it: the organizer
    and each invitee, once each."""
    return tuple(dict.fromkeys((meeting.organizer_slack_id, *meeting.invitees)))


def delivery_fate(delivery: DeliveryRow, meeting: MeetingRow, now: datetime) -> Fate:
    """Reminders go out, late ones too, while their occurrence has not ended; afterwards (or
    once cancelled) they are dropped. Start/end replies wait for the card they thread under.
    Nothing is posted more than LATE_AFTER past due. A message for the conversation goes to
    the people instead when the card could only be shown privately (or there is no
    conversation); one already addressed to a person is simply posted."""
    reminder = delivery.kind.startswith(REMINDER_PREFIX)
    if reminder and occurrence_over(meeting, delivery.occurrence, now):
        return Fate.DROP
    if now - delivery.due_at > LATE_AFTER:
        return Fate.LATE
    if delivery.recipient:
        return Fate.POST
    if reminder:
        elsewhere = (delivery.payload or {}).get("channel")
        if elsewhere:
            return Fate.POST  # the workspace's reminder channel, whatever the card's fate
        if not meeting.channel_id or meeting.message_ts == "":
            return Fate.TO_PEOPLE
        return Fate.POST
    if meeting.message_ts is None:
        return Fate.WAIT
    if not meeting.message_ts or not meeting.channel_id:
        return Fate.TO_PEOPLE  # the card could only be shown privately: no thread to reply in
    return Fate.POST
