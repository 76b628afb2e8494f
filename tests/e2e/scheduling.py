"""Helpers for the scheduler's end-to-end tests: the bot served with chosen settings, the
database it uses (seeded through the repository), and waiting on either."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from cryptography.fernet import Fernet

from storage.db import create_engine, session_factory
from storage.models import MeetingState
from storage.repo import MeetingRow, NewDelivery, NewMeeting, Repository
from storage.secrets import SecretBox

T = TypeVar("T")


@contextlib.asynccontextmanager
async def repository(database_url: str) -> AsyncIterator[Repository]:
    """The bot's repository on its database, for seeding and checking (migrated already)."""
    engine = create_engine(database_url)
    try:
        yield Repository(
            session_factory(engine), SecretBox.from_keys(Fernet.generate_key().decode())
        )
    finally:
        await engine.dispose()


def now() -> datetime:
    return datetime.now(UTC)


async def seed(
    repo: Repository,
    *,
    conference_id: str,
    channel: str = "C1",
    start: datetime,
    minutes: int = 30,
    reminders: Sequence[tuple[int, datetime]] = (),
    team_id: str = "T1",
    topic: str = "Seeded sync",
    card_ts: str | None = "1.000001",
    state: MeetingState = MeetingState.SCHEDULED,
) -> MeetingRow:
    """A meeting recorded directly (as `add_meeting` records one) with reminders
    `(offset, due_at)`; its card counts as posted at `card_ts`."""
    meeting = await repo.add_meeting(
        team_id=team_id,
        meeting=NewMeeting(
            conference_id=conference_id,
            organizer_slack_id="UALICE",
            organizer_third_party_id="alice@example.com",
            topic=topic,
            start_at=start,
            duration_minutes=minutes,
            tz_name="UTC",
            channel_id=channel,
            state=state,
            guest_join_url=f"https://join.example/{conference_id}",
        ),
        deliveries=[NewDelivery(start, f"reminder:{m}", due) for m, due in reminders],
    )
    if card_ts is not None:
        await repo.set_card(
            team_id=team_id,
            meeting_id=meeting.id,
            channel_id=channel,
            message_ts=card_ts,
            card_state=state.value,
        )
    return meeting


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, within: float = 30, what: str = "condition"
) -> T:
    """Poll `check` until it returns something other than None (or False), for `within` s."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def within(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)
