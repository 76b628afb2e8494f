"""Values for the service's pure-rule tests: a meeting, a delivery and a vendor record, each
plain unless a case changes what it is about."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.huawei.answers import Conference
from bot.service import DeliveryRow, MeetingRow, Profile
from storage.models import MeetingState

__all__ = ["CONFERENCE_ID", "T0", "at", "delivery", "meeting", "profile", "record"]

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""A Monday, 09:00 UTC: when the meeting in these tests is scheduled to start."""
CONFERENCE_ID = "900000001"


def at(minutes: float) -> datetime:
    """`minutes` after T0 (negative: before)."""
    return T0 + timedelta(minutes=minutes)


_MEETING = MeetingRow(
    id=1,
    team_id="T1",
    conference_id=CONFERENCE_ID,
    organizer_slack_id="UALICE",
    organizer_third_party_id="alice@example.com",
    channel_id="C1",
    message_ts="1772442000.000100",
    topic="Standup",
    start_at=T0,
    end_at=at(30),
    duration_minutes=30,
    tz_name="UTC",
    state=MeetingState.SCHEDULED,
    is_instant=False,
    recurrence=None,
    guest_join_url=None,
    invitees=(),
    participant_count=None,
    started_at=None,
    ended_at=None,
    card_state="scheduled",
    created_at=at(-24 * 60),
    updated_at=at(-24 * 60),
    watch_from=at(-15),
)


def meeting(**changes: Any) -> MeetingRow:
    """A 30-minute meeting scheduled at T0 in channel C1, its card posted; `end_at` follows
    `start_at` and `duration_minutes` unless given."""
    row = replace(_MEETING, **changes)
    if "end_at" not in changes:
        row = replace(row, end_at=row.start_at + timedelta(minutes=row.duration_minutes))
    return row


_DELIVERY = DeliveryRow(
    id=1,
    team_id="T1",
    meeting_id=1,
    occurrence=T0,
    kind="reminder:10",
    due_at=at(-10),
    claimed_by="worker",
    claimed_until=at(0),
    sent_at=None,
    slack_ts=None,
    attempts=0,
    withdrawn_at=None,
    last_error=None,
)


def delivery(**changes: Any) -> DeliveryRow:
    """The 10-minute reminder of meeting 1's occurrence at T0, claimed."""
    return replace(_DELIVERY, **changes)


def record(
    start: datetime | None,
    end: datetime | None,
    *,
    conference_id: str = CONFERENCE_ID,
    online: int | None = None,
) -> Conference:
    """A vendor record of the conference: a history session (start, end) or an online entry."""
    return Conference(
        conference_id=conference_id, start=start, end=end, online_attendee_amount=online
    )


def profile(**changes: Any) -> Profile:
    """Alice in workspace T1, with no time zone or email unless given."""
    return replace(Profile(user_id="UALICE", team_id="T1", name="Alice"), **changes)
