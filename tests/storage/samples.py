"""What the storage tests record: sample meetings and their reminders, all at T0, with ADMIN
as the actor of settings changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.repo import MeetingRow, NewDelivery, NewMeeting, Repository

T0 = datetime(2030, 1, 2, 10, 0, tzinfo=UTC)
ADMIN = "UADMIN"


def meeting(
    conference_id: str = "c-1",
    *,
    start: datetime = T0,
    organizer: str = "U1",
    topic: str = "Standup",
    duration: int = 30,
) -> NewMeeting:
    return NewMeeting(
        conference_id=conference_id,
        organizer_slack_id=organizer,
        organizer_third_party_id=f"{organizer}@example.com",
        topic=topic,
        start_at=start,
        duration_minutes=duration,
        tz_name="Asia/Shanghai",
        channel_id="C1",
        guest_join_url="https://meeting.example/j/1",
        invitees=("U2", "U3"),
    )


def reminders(start: datetime = T0, *minutes: int) -> list[NewDelivery]:
    return [
        NewDelivery(start, f"reminder:{m}", start - timedelta(minutes=m))
        for m in minutes or (10, 0)
    ]


async def add(
    repo: Repository, team_id: str = "T1", conference_id: str = "c-1", start: datetime = T0
) -> MeetingRow:
    return await repo.add_meeting(
        team_id=team_id,
        meeting=meeting(conference_id, start=start),
        deliveries=reminders(start),
    )
