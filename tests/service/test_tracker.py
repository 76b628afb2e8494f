"""The live-status tracker against the sandbox over HTTP and a real database, with odd vendor
answers (`/_sandbox/oddities`): one odd meeting never stalls the status of the others."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Final

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.config import Settings
from bot.huawei.answers import Conference
from bot.huawei.client import HuaweiMeetingClient
from bot.service import MeetingRow, Profile, StatusChange, StatusKind
from bot.service.identity import Identity
from bot.service.status import HISTORY_GRACE
from bot.service.tracker import Tracker
from storage.db import create_engine, session_factory, upgrade
from storage.models import MeetingState
from storage.repo import NewMeeting, Repository
from storage.secrets import SecretBox
from tests.conftest import Database
from tests.fakes.sandbox import RunningSandbox, running_sandbox
from tests.huawei.client_support import (
    APP,
    APP_KEY,
    FAST_RETRY,
    SANDBOX_APP,
    ManualClock,
    scheduled,
)

TEAM: Final = "T1"
NO_ID_ITEMS: Final = [
    {"subject": "Ghost", "conferenceState": "Created", "onlineAttendeeAmount": 3},
    {"conferenceID": None, "conferenceState": "Created"},
]


class NoDirectory:
    """A chat directory that knows nobody (the tracker never asks it)."""

    async def profile(
        self,
        *,
        team_id: str,  # noqa: ARG002 -- the protocol's signature
        user_id: str,  # noqa: ARG002
        fresh: bool = False,  # noqa: ARG002
    ) -> Profile | None:
        return None


class World:
    """The tracker wired to the sandbox, the database and one shared, hand-moved clock."""

    def __init__(self, sandbox: RunningSandbox, clock: ManualClock, repo: Repository) -> None:
        self.sandbox = sandbox
        self.clock = clock
        self.repo = repo
        self.client = HuaweiMeetingClient(sandbox.base_url, retry=FAST_RETRY, clock=clock)
        settings = Settings(hcm_app_id=APP.app_id, hcm_app_key=SecretStr(APP_KEY))
        identity = Identity(settings=settings, repo=repo, directory=NoDirectory())
        self.tracker = Tracker(repo=repo, meetings=self.client, identity=identity, clock=self.now)
        self.ahead = timedelta(0)
        """How far the tracker's clock runs ahead of the vendor's (which ends bookings)."""

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now, UTC) + self.ahead

    async def book(self, subject: str) -> Conference:
        """A 30-minute meeting at the vendor starting in 5 minutes, recorded as the bot does."""
        conf = await self.client.create_meeting(
            APP, "alice", scheduled(subject, hours=5 / 60, now=self.clock.now)
        )
        assert conf.start is not None
        await self.repo.add_meeting(
            team_id=TEAM,
            meeting=NewMeeting(
                conference_id=conf.conference_id,
                organizer_slack_id="UALICE",
                organizer_third_party_id="alice",
                topic=subject,
                start_at=conf.start,
                duration_minutes=30,
                tz_name="UTC",
                channel_id="C1",
            ),
            deliveries=[],
        )
        return conf

    async def row(self, conf: Conference) -> MeetingRow:
        row = await self.repo.get_meeting_by_conference(
            team_id=TEAM, conference_id=conf.conference_id
        )
        assert row is not None
        return row


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[RunningSandbox]:
    with running_sandbox(SANDBOX_APP, clock=clock) as running:
        yield running


@pytest.fixture
async def world(
    empty_database: Database, sandbox: RunningSandbox, clock: ManualClock
) -> AsyncIterator[World]:
    upgrade(empty_database.url)
    engine = create_engine(empty_database.url)
    repo = Repository(session_factory(engine), SecretBox.from_keys(Fernet.generate_key().decode()))
    built = World(sandbox, clock, repo)
    async with built.client:
        yield built
    await engine.dispose()


def _kinds(changes: list[StatusChange]) -> dict[str, StatusKind]:
    return {c.meeting.conference_id: c.kind for c in changes}


async def test_odd_online_items_never_stall_the_other_meetings(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    paused, webinar, dated, plain = [await world.book(f"M{i}") for i in range(4)]
    for conf in (paused, webinar, dated, plain):
        world.sandbox.join(conf.conference_id, "Guest")
    world.clock.advance(6 * 60)  # all four are in progress at the vendor now
    world.sandbox.sandbox.set_oddities(
        fields={
            paused.conference_id: {"conferenceState": "Paused"},
            webinar.conference_id: {
                "confType": "WEBINAR",
                "passwordEntry": [{"conferenceRole": "chair", "password": None}],
                "aiSummaryInfo": {"enabled": True},
            },
            dated.conference_id: {"startTime": "soon", "endTime": 0},
        },
        drop={webinar.conference_id: ["subject", "startTime", "endTime", "scheduserName"]},
        extra={"online": NO_ID_ITEMS},
    )

    changes = await world.tracker.poll_status()

    started = {webinar.conference_id, dated.conference_id, plain.conference_id}
    assert _kinds(changes) == dict.fromkeys(started, StatusKind.STARTED)
    for conf in (webinar, dated, plain):
        row = await world.row(conf)
        assert (row.state, row.participant_count) == (MeetingState.LIVE, 1)
    assert (await world.row(paused)).state is MeetingState.SCHEDULED  # unknown: left as it was
    skipped = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert [r.name for r in skipped] == ["bot.huawei.answers"] * 2
    assert all("unreadable conferenceID" in r.getMessage() for r in skipped)
    assert "conferenceState='Paused'" in caplog.text
    for secret in (paused.host_password, webinar.host_password, webinar.chair_join_uri):
        assert secret
        assert secret not in caplog.text

    # Once the vendor says something known again, the paused meeting catches up.
    world.sandbox.sandbox.set_oddities(extra={"online": NO_ID_ITEMS})
    assert _kinds(await world.tracker.poll_status()) == {paused.conference_id: StatusKind.STARTED}
    assert (await world.row(paused)).state is MeetingState.LIVE


async def test_a_live_meeting_in_an_unknown_state_is_not_ended_while_others_are(
    world: World,
) -> None:
    odd, other, ending = [await world.book(f"M{i}") for i in range(3)]
    for conf in (odd, other, ending):
        world.sandbox.join(conf.conference_id, "Guest")
    world.clock.advance(6 * 60)
    assert len(await world.tracker.poll_status()) == 3  # all three are live

    world.sandbox.sandbox.set_oddities(
        fields={odd.conference_id: {"conferenceState": "Locked", "onlineAttendeeAmount": 9}},
        extra={"online": NO_ID_ITEMS, "history": NO_ID_ITEMS},
    )
    world.sandbox.join(other.conference_id, "Second guest")
    world.clock.advance(10 * 60)
    world.sandbox.end(ending.conference_id)
    # The tracker is past every meeting's end and the history grace, so a meeting absent from
    # the online list would be ended; the vendor keeps the other two running.
    world.ahead = timedelta(minutes=35) + HISTORY_GRACE
    changes = await world.tracker.poll_status()

    assert _kinds(changes) == {
        other.conference_id: StatusKind.PARTICIPANTS,
        ending.conference_id: StatusKind.ENDED,
    }
    assert (await world.row(other)).participant_count == 2
    assert (await world.row(ending)).state is MeetingState.ENDED
    row = await world.row(odd)
    assert (row.state, row.participant_count) == (MeetingState.LIVE, 1)  # nothing changed
