"""HuaweiMeetingClient against the sandbox: every meeting call, paging and the vendor's refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.huawei.answers import ConferenceState, ConfType
from bot.huawei.errors import (
    InvalidRequest,
    MeetingNotRunning,
    NotFound,
    PermissionDenied,
)
from bot.huawei.models import Attendee, AttendeeRole, Cycle, MeetingSpec, Recurrence
from tests.fakes.sandbox import RunningSandbox, running_sandbox
from tests.huawei.client_support import (
    APP,
    SANDBOX_APP,
    ManualClock,
    in_hours,
    meeting_client,
    requests_to,
    scheduled,
)


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(SANDBOX_APP) as running:
        yield running


async def test_create_scheduled_meeting_with_an_invitee(sandbox: RunningSandbox) -> None:
    start = in_hours(3)
    spec = scheduled(
        "Design review",
        hours=3,
        length_minutes=45,
        attendees=(Attendee(account_id="bob", name="Bob"),),
    )
    async with meeting_client(sandbox) as client:
        conf = await client.create_meeting(APP, "alice", spec)
    assert conf.subject == "Design review"
    assert conf.state is ConferenceState.SCHEDULE
    assert conf.conf_type is ConfType.FUTURE
    assert (conf.start, conf.end) == (start, start + timedelta(minutes=45))
    assert conf.length_minutes == 45
    assert conf.guest_join_uri
    assert conf.chair_join_uri
    assert conf.host_password
    assert conf.guest_password
    assert not conf.is_recurring
    [held] = sandbox.meetings()
    assert (held["conference_id"], held["owner"], held["attendees"]) == (
        conf.conference_id,
        "alice",
        ["bob"],
    )


async def test_create_instant_meeting_starts_it(sandbox: RunningSandbox) -> None:
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    async with meeting_client(sandbox) as client:
        conf = await client.create_meeting(APP, "alice", MeetingSpec(subject="Quick sync"))
    assert conf.state is ConferenceState.CREATED
    assert conf.conf_type is ConfType.IMMEDIATELY
    assert conf.conf_uuid
    assert conf.start is not None
    assert before <= conf.start <= datetime.now(UTC)


async def test_create_recurring_meeting_returns_its_occurrences(sandbox: RunningSandbox) -> None:
    first = in_hours(24 * 2)
    day = first.date()
    spec = MeetingSpec(
        subject="Daily standup",
        start=first,
        length_minutes=15,
        recurrence=Recurrence(
            cycle=Cycle.DAY,
            interval=1,
            start_date=day,
            end_date=day + timedelta(days=3),
            time_zone_id="26",
        ),
    )
    async with meeting_client(sandbox) as client:
        conf = await client.create_meeting(APP, "alice", spec)
    assert conf.is_recurring
    assert conf.conf_type is ConfType.CYCLE
    assert len(conf.sub_confs) == 4
    assert all(s.cycle_sub_conf_id for s in conf.sub_confs)
    starts = [s.start for s in conf.sub_confs]
    assert starts[0] is not None
    assert all(s is not None and s.time() == starts[0].time() for s in starts)  # London, one zone
    assert [m["sub_meetings"] for m in sandbox.meetings()] == [4]


async def test_get_meeting_shows_invitees_and_host_details(sandbox: RunningSandbox) -> None:
    spec = scheduled(
        attendees=(
            Attendee(account_id="bob", name="Bob"),
            Attendee(account_id="carol", name="Carol", role=AttendeeRole.HOST),
        )
    )
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", spec)
        detail = await client.get_meeting(APP, "alice", created.conference_id)
        as_guest = await client.get_meeting(APP, "bob", created.conference_id)
    assert detail.conference.conference_id == created.conference_id
    assert detail.conference.host_password == created.host_password
    assert [(p.account_id, p.name, p.role) for p in detail.participants] == [
        ("bob", "Bob", 0),
        ("carol", "Carol", 1),
    ]
    assert as_guest.conference.host_password is None  # an invitee only sees the guest password
    assert as_guest.conference.guest_password == created.guest_password


async def test_users_see_only_their_own_or_invited_meetings(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", scheduled())
        with pytest.raises(NotFound) as caught:
            await client.get_meeting(APP, "mallory", created.conference_id)
        assert await client.list_meetings(APP, "mallory") == []
    assert caught.value.error_code == "MMC.111070005"
    assert caught.value.status_code == 400


async def test_edit_meeting_replaces_the_booking(sandbox: RunningSandbox) -> None:
    new_start = in_hours(5)
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", scheduled())
        edited = await client.edit_meeting(
            APP,
            "alice",
            created.conference_id,
            MeetingSpec(subject="Moved", start=new_start, length_minutes=60),
        )
        detail = await client.get_meeting(APP, "alice", created.conference_id)
    assert edited.conference_id == created.conference_id
    assert (detail.conference.subject, detail.conference.start) == ("Moved", new_start)
    assert detail.conference.length_minutes == 60


async def test_edit_recurring_meeting_replaces_its_occurrences(sandbox: RunningSandbox) -> None:
    first = in_hours(24 * 2)
    day = first.date()

    def daily(days: int, subject: str) -> MeetingSpec:
        rule = Recurrence(
            cycle=Cycle.DAY,
            interval=1,
            start_date=day,
            end_date=day + timedelta(days=days - 1),
            time_zone_id="26",
        )
        return MeetingSpec(subject=subject, start=first, length_minutes=15, recurrence=rule)

    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", daily(4, "Daily standup"))
        edited = await client.edit_meeting(
            APP, "alice", created.conference_id, daily(2, "Standup, shorter run")
        )
        with pytest.raises(InvalidRequest):  # a recurring booking is not edited as a single one
            await client.edit_meeting(APP, "alice", created.conference_id, scheduled("One-off"))
    assert edited.conference_id == created.conference_id
    assert len(edited.sub_confs) == 2
    [held] = sandbox.meetings()
    assert (held["subject"], held["sub_meetings"]) == ("Standup, shorter run", 2)


async def test_only_the_organizer_may_edit(sandbox: RunningSandbox) -> None:
    spec = scheduled(attendees=(Attendee(account_id="bob", name="Bob"),))
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", spec)
        with pytest.raises(PermissionDenied) as caught:
            await client.edit_meeting(APP, "bob", created.conference_id, scheduled("Hijack"))
    assert caught.value.status_code == 403


async def test_cancel_meeting_removes_the_booking(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", scheduled())
        await client.cancel_meeting(APP, "alice", created.conference_id)
        with pytest.raises(NotFound):
            await client.get_meeting(APP, "alice", created.conference_id)
        assert await client.list_meetings(APP, "alice") == []
    assert [m["cancelled"] for m in sandbox.meetings()] == [True]


async def test_cancel_running_meeting_needs_end_if_running(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", MeetingSpec(subject="Live"))
        with pytest.raises(InvalidRequest):
            await client.cancel_meeting(APP, "alice", created.conference_id)
        await client.cancel_meeting(APP, "alice", created.conference_id, end_if_running=True)
        assert await client.list_online_meetings(APP, None) == []
    [held] = sandbox.meetings()
    assert held["cancelled"]
    assert held["sessions"][0]["end"] is not None


async def test_cancel_recurring_meeting(sandbox: RunningSandbox) -> None:
    first = in_hours(24)
    spec = MeetingSpec(
        subject="Weekly",
        start=first,
        recurrence=Recurrence(
            cycle=Cycle.WEEK,
            points=(first.isoweekday() % 7,),
            start_date=first.date(),
            end_date=first.date() + timedelta(weeks=2),
            time_zone_id="26",
        ),
    )
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", spec)
        await client.cancel_meeting(APP, "alice", created.conference_id, recurring=True)
    assert requests_to(sandbox, "DELETE /v1/mmc/management/cycleconferences") == 1
    assert [m["cancelled"] for m in sandbox.meetings()] == [True]


async def test_list_meetings_pages_through_everything_and_searches(
    sandbox: RunningSandbox,
) -> None:
    async with meeting_client(sandbox, page_size=2) as client:
        for i in range(5):
            await client.create_meeting(APP, "alice", scheduled(f"Alpha {i}", hours=1 + i))
        await client.create_meeting(APP, "alice", scheduled("Beta", hours=9))
        everything = await client.list_meetings(APP, "alice")
        alphas = await client.list_meetings(APP, "alice", search="Alpha")
    assert sorted(c.subject for c in everything) == [*(f"Alpha {i}" for i in range(5)), "Beta"]
    assert len({c.conference_id for c in everything}) == 6
    assert sorted(c.subject for c in alphas) == [f"Alpha {i}" for i in range(5)]
    # 6 meetings in pages of 2, then 5 in pages of 2.
    assert requests_to(sandbox, "GET /v1/mmc/management/conferences") == 3 + 3


async def test_invitee_sees_the_meeting_in_their_list(sandbox: RunningSandbox) -> None:
    spec = scheduled(attendees=(Attendee(account_id="bob", name="Bob"),))
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", spec)
        bobs = await client.list_meetings(APP, "bob")
    assert [c.conference_id for c in bobs] == [created.conference_id]


async def test_online_meetings_page_concurrently_for_the_admin(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox, page_size=2) as client:
        created = [
            await client.create_meeting(APP, user, MeetingSpec(subject=f"Live {user}"))
            for user in ("alice", "bob", "carol", "dave", "erin")
        ]
        sandbox.join(created[0].conference_id, "Guest 1")
        sandbox.join(created[0].conference_id, "Guest 2")
        online = await client.list_online_meetings(APP)
        alices = await client.list_online_meetings(APP, "alice", query_all=False)
    assert sorted(c.conference_id for c in online) == sorted(c.conference_id for c in created)
    amounts = {c.conference_id: c.online_attendee_amount for c in online}
    assert amounts[created[0].conference_id] == 2
    assert amounts[created[1].conference_id] == 0
    assert all(c.state is ConferenceState.CREATED for c in online)
    assert [c.conference_id for c in alices] == [created[0].conference_id]
    # 5 meetings in pages of 2 for the admin, 1 page for alice.
    assert requests_to(sandbox, "GET /v1/mmc/management/conferences/online") == 3 + 1


async def test_online_attendees_lists_who_is_in_the_meeting(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox, page_size=2) as client:
        created = await client.create_meeting(APP, "alice", MeetingSpec(subject="Live"))
        ids = [
            sandbox.join(created.conference_id, "Alice", account_id="alice"),
            sandbox.join(created.conference_id, "Bob", account_id="bob"),
            sandbox.join(created.conference_id, "Phone guest"),
        ]
        sandbox.leave(created.conference_id, ids[2])
        sandbox.join(created.conference_id, "Carol", account_id="carol")
        attendees = await client.online_attendees(APP, "alice", created.conference_id)
    assert sorted((a.name, a.third_account) for a in attendees) == [
        ("Alice", "alice"),
        ("Bob", "bob"),
        ("Carol", "carol"),
    ]
    assert {a.name: a.role for a in attendees}["Alice"] == 1  # the organizer is the chair
    assert requests_to(sandbox, "GET /v1/mmc/management/conferences/online/conf-attendee") == 2


async def test_online_attendees_of_a_meeting_not_running(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", scheduled())
        with pytest.raises(MeetingNotRunning) as caught:
            await client.online_attendees(APP, "alice", created.conference_id)
    assert caught.value.error_code == "MMC.111072005"


async def test_history_after_end_has_the_real_duration() -> None:
    clock = ManualClock()  # one clock for both sides, as NTP would give them
    since = datetime.fromtimestamp(clock.now, UTC) - timedelta(hours=1)
    until = since + timedelta(hours=3)
    with running_sandbox(SANDBOX_APP, clock=clock) as sandbox:
        async with meeting_client(sandbox, clock=clock) as client:
            created = await client.create_meeting(
                APP, "alice", scheduled(length_minutes=60, now=clock.now)
            )
            sandbox.start(created.conference_id)
            clock.advance(17 * 60)
            sandbox.end(created.conference_id)
            history = await client.list_history(APP, "alice", since=since, until=until)
            searched = await client.list_history(
                APP, None, since=since, until=until, query_all=True, search="Standup"
            )
            empty = await client.list_history(
                APP, "alice", since=until, until=until + timedelta(days=1)
            )
            online = await client.list_online_meetings(APP)
    [record] = history
    assert record.conference_id == created.conference_id
    assert record.state is ConferenceState.DESTROYED
    assert record.conf_uuid
    assert record.length_minutes == 17
    assert [c.conf_uuid for c in searched] == [record.conf_uuid]
    assert empty == []
    assert online == []


async def test_end_meeting_with_the_host_password(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", MeetingSpec(subject="To end"))
        assert created.host_password is not None
        assert [c.conference_id for c in await client.list_online_meetings(APP)] == [
            created.conference_id
        ]
        await client.end_meeting(
            APP, "alice", created.conference_id, host_password=created.host_password
        )
        assert await client.list_online_meetings(APP) == []
        now = datetime.now(UTC)
        history = await client.list_history(
            APP, "alice", since=now - timedelta(hours=1), until=now + timedelta(hours=1)
        )
        # Ending a meeting that no longer runs is refused with the vendor's code.
        with pytest.raises(MeetingNotRunning):
            await client.end_meeting(
                APP, "alice", created.conference_id, host_password=created.host_password
            )
    assert [c.conference_id for c in history] == [created.conference_id]
    assert requests_to(sandbox, "PUT /v1/mmc/control/conferences/stop") == 1


async def test_end_meeting_that_has_not_started(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", scheduled())
        assert created.host_password is not None
        with pytest.raises(MeetingNotRunning) as caught:
            await client.end_meeting(
                APP, "alice", created.conference_id, host_password=created.host_password
            )
    assert caught.value.error_code == "MMC.111072005"
    assert "isn't running" in caught.value.user_message


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(MeetingSpec(subject="x" * 129, start=in_hours(2)), id="subject-129-chars"),
        pytest.param(
            MeetingSpec(subject="Short", start=in_hours(2), length_minutes=10), id="length-10-min"
        ),
        pytest.param(
            MeetingSpec(subject="Long", start=in_hours(2), length_minutes=1441),
            id="length-1441-min",
        ),
    ],
)
async def test_vendor_refusals_become_invalid_request(
    sandbox: RunningSandbox, spec: MeetingSpec
) -> None:
    async with meeting_client(sandbox) as client:
        with pytest.raises(InvalidRequest) as caught:
            await client.create_meeting(APP, "alice", spec)
    assert caught.value.status_code == 400
    assert caught.value.error_code
    assert caught.value.message  # the vendor's own explanation
    assert caught.value.message in caught.value.user_message
    assert sandbox.meetings() == []
    assert requests_to(sandbox, "POST /v1/mmc/management/conferences") == 1  # not retried


async def test_unknown_conference_is_not_found(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        with pytest.raises(NotFound) as caught:
            await client.get_meeting(APP, "alice", "123456789")
    assert caught.value.error_code == "MMC.111070005"
    assert caught.value.request_id


async def test_a_booking_whose_time_has_passed_is_gone(sandbox: RunningSandbox) -> None:
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", scheduled(hours=1))
        sandbox.advance(2 * 3600)
        with pytest.raises(NotFound):
            await client.get_meeting(APP, "alice", created.conference_id)
