"""HuaweiMeetingClient against odd vendor answers (the sandbox's `/_sandbox/oddities`): one odd
meeting in a list never hides the others; a single meeting's answer stays strict."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pytest

from bot.huawei.answers import Conference, ConferenceState, ConfType
from bot.huawei.client import HuaweiMeetingClient
from bot.huawei.errors import MeetingServiceError
from bot.huawei.models import MeetingSpec
from tests.fakes.sandbox import RunningSandbox, running_sandbox
from tests.huawei.client_support import APP, SANDBOX_APP, ManualClock, meeting_client, scheduled

Lister = Callable[[HuaweiMeetingClient], Awaitable[list[Conference]]]

NO_ID_ITEM: Final[dict[str, Any]] = {
    "subject": "Ghost",
    "conferenceState": "Created",
    "guestJoinUri": "https://ghost.example/j/1",
}


def _odd_meetings(a: str, b: str) -> dict[str, Any]:
    """Meeting `a` in an undocumented state; meeting `b` with every other oddity at once."""
    return {
        "fields": {
            a: {"conferenceState": "Paused"},
            b: {
                "confType": "WEBINAR",
                "passwordEntry": [{"conferenceRole": "chair", "password": None}],
                "aiSummaryInfo": {"enabled": True},
                "scheduserName": None,
            },
        },
        "drop": {b: ["subject", "startTime", "endTime", "mediaTypes", "confUUID", "length"]},
    }


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[RunningSandbox]:
    with running_sandbox(SANDBOX_APP, clock=clock) as running:
        yield running


def _upcoming(client: HuaweiMeetingClient) -> Awaitable[list[Conference]]:
    return client.list_meetings(APP, "alice")


def _online(client: HuaweiMeetingClient) -> Awaitable[list[Conference]]:
    return client.list_online_meetings(APP)


def _history(client: HuaweiMeetingClient) -> Awaitable[list[Conference]]:
    since = datetime.now(UTC) - timedelta(hours=1)
    return client.list_history(
        APP, None, since=since, until=since + timedelta(hours=4), query_all=True
    )


@pytest.mark.parametrize(
    ("listing", "lister", "started", "ended"),
    [
        pytest.param("upcoming", _upcoming, False, False, id="upcoming"),
        pytest.param("online", _online, True, False, id="online"),
        pytest.param("history", _history, True, True, id="history"),
    ],
)
async def test_odd_items_do_not_reject_the_page(
    sandbox: RunningSandbox,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    listing: str,
    lister: Lister,
    started: bool,
    ended: bool,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.huawei")
    async with meeting_client(sandbox, page_size=2) as client:
        a, b, c = [
            await client.create_meeting(APP, "alice", scheduled(f"M{i}", now=clock.now))
            for i in range(3)
        ]
        ids = [m.conference_id for m in (a, b, c)]
        for conference_id in ids if started else ():
            sandbox.start(conference_id)
        clock.advance(60)
        for conference_id in ids if ended else ():
            sandbox.end(conference_id)
        sandbox.sandbox.set_oddities(
            **_odd_meetings(a.conference_id, b.conference_id),
            extra={listing: [NO_ID_ITEM, {**NO_ID_ITEM, "conferenceID": None}]},
        )
        found = {conf.conference_id: conf for conf in await lister(client)}
    assert sorted(found) == sorted(ids)  # the odd ones kept, the ones without an ID skipped
    assert found[a.conference_id].state is ConferenceState.UNKNOWN
    assert found[a.conference_id].subject == "M0"
    odd = found[b.conference_id]
    assert odd.conf_type is ConfType.UNKNOWN
    assert (odd.subject, odd.start, odd.end, odd.scheduser_name) == ("", None, None, None)
    assert odd.host_password is None
    assert odd.guest_join_uri == b.guest_join_uri
    plain = found[c.conference_id]
    assert plain.subject == "M2"
    assert plain.conf_type is ConfType.FUTURE
    assert plain.state is (
        ConferenceState.DESTROYED
        if ended
        else ConferenceState.CREATED
        if started
        else ConferenceState.SCHEDULE
    )
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert (
        skipped
        == [f"{listing} list: skipped the item of conference (none): unreadable conferenceID"] * 2
    )
    assert f"conference '{a.conference_id}' kept" in caplog.text
    assert "conferenceState='Paused'" in caplog.text
    assert f"conference '{b.conference_id}' kept" in caplog.text
    assert "confType='WEBINAR'" in caplog.text
    for secret in (a.host_password, a.chair_join_uri, b.host_password, b.chair_join_uri):
        assert secret
        assert secret not in caplog.text


async def test_a_malformed_field_leaves_only_that_field_out_of_a_list(
    sandbox: RunningSandbox,
) -> None:
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", MeetingSpec(subject="Live"))
        sandbox.sandbox.set_oddities(
            fields={
                created.conference_id: {
                    "startTime": "soon",
                    "guestJoinUri": "javascript:alert(1)",
                    "onlineAttendeeAmount": "two",
                }
            }
        )
        [online] = await client.list_online_meetings(APP)
    assert online.conference_id == created.conference_id
    assert (online.start, online.guest_join_uri, online.online_attendee_amount) == (
        None,
        None,
        None,
    )
    assert online.state is ConferenceState.CREATED
    assert online.end == created.end


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"conferenceID": None}, id="no-conference-id"),
        pytest.param({"startTime": "soon"}, id="malformed-start"),
        pytest.param({"guestJoinUri": "javascript:alert(1)"}, id="guest-link-not-https"),
    ],
)
async def test_a_malformed_single_meeting_answer_fails_clearly(
    sandbox: RunningSandbox, fields: dict[str, Any]
) -> None:
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", scheduled())
        sandbox.sandbox.set_oddities(fields={"*": fields})
        with pytest.raises(MeetingServiceError) as shown:
            await client.get_meeting(APP, "alice", created.conference_id)
        with pytest.raises(MeetingServiceError) as booked:
            await client.create_meeting(APP, "alice", scheduled("Another"))
    for caught in (shown, booked):
        assert caught.value.message == "the meeting service sent an answer we could not read"
        assert caught.value.user_message


async def test_a_single_meeting_answer_reads_unknown_values_and_null_passwords(
    sandbox: RunningSandbox,
) -> None:
    async with meeting_client(sandbox) as client:
        created = await client.create_meeting(APP, "alice", scheduled())
        sandbox.sandbox.set_oddities(
            fields={
                created.conference_id: {
                    "conferenceState": "Locked",
                    "confType": "WEBINAR",
                    "passwordEntry": [{"conferenceRole": "chair", "password": None}],
                    "newField": [1],
                }
            },
            drop={created.conference_id: ["subject", "timeZoneID"]},
        )
        detail = await client.get_meeting(APP, "alice", created.conference_id)
    conf = detail.conference
    assert (conf.state, conf.conf_type) == (ConferenceState.UNKNOWN, ConfType.UNKNOWN)
    assert (conf.host_password, conf.subject, conf.time_zone_id) == (None, "", None)
    assert (conf.start, conf.guest_join_uri) == (created.start, created.guest_join_uri)
