"""The live-status rules as tables: what the vendor's answers mean for a meeting, and what the
tick does with an owed message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest

from bot.huawei.answers import Conference, ConferenceState
from bot.service import (
    Decision,
    DeliveryRow,
    Fate,
    MeetingRow,
    StatusKind,
    decide_status,
    delivery_fate,
    dm_recipients,
    lasted_minutes,
    occurrence_over,
    pick_session,
    superseded,
)
from storage.models import MeetingState
from tests.service.rows import CONFERENCE_ID, T0, at, delivery, meeting, record

LIVE = meeting(state=MeetingState.LIVE, started_at=at(2), participant_count=3)
ODD_ONLINE = Conference(
    conference_id=CONFERENCE_ID, state=ConferenceState.UNKNOWN, online_attendee_amount=5
)
"""An online entry in a state the vendor documents no meaning for."""


@pytest.mark.parametrize(
    ("row", "online", "found", "now", "expected"),
    [
        pytest.param(
            meeting(),
            record(None, None, online=4),
            None,
            at(1),
            Decision(StatusKind.STARTED, started_at=at(1), participants=4),
            id="scheduled-meeting-seen-online-starts-now-with-its-head-count",
        ),
        pytest.param(
            meeting(),
            None,
            record(at(1), at(20)),
            at(25),
            Decision(StatusKind.ENDED, started_at=at(1), ended_at=at(20), also_started=True),
            id="meeting-held-between-two-looks-ends-with-its-real-times-and-is-also-started",
        ),
        pytest.param(
            meeting(),
            None,
            None,
            at(29),
            None,
            id="scheduled-meeting-not-started-before-its-end-is-left-alone",
        ),
        pytest.param(
            meeting(),
            None,
            None,
            at(30),
            Decision(StatusKind.NOT_HELD),
            id="scheduled-meeting-never-started-by-its-end-was-not-held",
        ),
        pytest.param(
            meeting(),
            None,
            record(at(1), None),
            at(10),
            None,
            id="history-record-without-an-end-does-not-end-a-scheduled-meeting",
        ),
        pytest.param(
            LIVE,
            record(None, None, online=5),
            None,
            at(10),
            Decision(StatusKind.PARTICIPANTS, participants=5),
            id="live-meeting-whose-head-count-changed-updates-the-count",
        ),
        pytest.param(
            LIVE,
            record(None, None, online=3),
            None,
            at(10),
            None,
            id="live-meeting-with-the-same-head-count-is-left-alone",
        ),
        pytest.param(
            LIVE,
            record(None, None),
            None,
            at(10),
            None,
            id="live-meeting-whose-head-count-the-vendor-omits-keeps-its-count",
        ),
        pytest.param(
            LIVE,
            None,
            record(at(2), at(27)),
            at(28),
            Decision(StatusKind.ENDED, started_at=at(2), ended_at=at(27)),
            id="live-meeting-gone-from-the-list-ends-at-its-history-times",
        ),
        pytest.param(
            LIVE,
            None,
            None,
            at(30 + 2 + 9),
            None,
            id="live-meeting-gone-but-not-yet-in-history-waits-for-history-to-catch-up",
        ),
        pytest.param(
            LIVE,
            None,
            None,
            at(30 + 2 + 10),
            Decision(StatusKind.ENDED, started_at=at(2), ended_at=at(42)),
            id="live-meeting-gone-and-ten-minutes-overdue-ends-when-noticed",
        ),
        pytest.param(
            meeting(state=MeetingState.LIVE, started_at=at(-20)),
            None,
            None,
            at(30 + 9),
            None,
            id="early-started-meeting-is-overdue-only-after-its-scheduled-end-plus-grace",
        ),
        pytest.param(
            meeting(state=MeetingState.LIVE, started_at=None),
            None,
            None,
            at(40),
            Decision(StatusKind.ENDED, started_at=T0, ended_at=at(40)),
            id="live-meeting-without-a-known-start-counts-from-its-scheduled-start",
        ),
        pytest.param(
            meeting(state=MeetingState.ENDED),
            record(None, None, online=2),
            None,
            at(10),
            None,
            id="ended-meeting-never-changes-again",
        ),
        pytest.param(
            meeting(state=MeetingState.CANCELLED),
            record(None, None, online=2),
            None,
            at(10),
            None,
            id="cancelled-meeting-never-changes-again",
        ),
        pytest.param(
            meeting(),
            ODD_ONLINE,
            None,
            at(1),
            None,
            id="online-entry-in-an-unknown-state-does-not-start-a-meeting",
        ),
        pytest.param(
            meeting(),
            ODD_ONLINE,
            None,
            at(30),
            None,
            id="online-entry-in-an-unknown-state-does-not-make-a-meeting-not-held",
        ),
        pytest.param(
            LIVE,
            ODD_ONLINE,
            record(at(2), at(20)),
            at(30 + 2 + 10),
            None,
            id="online-entry-in-an-unknown-state-neither-ends-a-live-meeting-nor-counts-heads",
        ),
        pytest.param(
            meeting(),
            Conference(conference_id=CONFERENCE_ID, state=None, online_attendee_amount=2),
            None,
            at(1),
            Decision(StatusKind.STARTED, started_at=at(1), participants=2),
            id="online-entry-without-a-state-is-in-progress-as-the-online-list-says",
        ),
    ],
)
def test_decide_status(
    row: MeetingRow,
    online: Conference | None,
    found: Conference | None,
    now: datetime,
    expected: Decision | None,
) -> None:
    assert decide_status(row, online=online, record=found, now=now) == expected


@pytest.mark.parametrize(
    ("row", "records", "expected"),
    [
        pytest.param(meeting(), [], None, id="no-history-no-session"),
        pytest.param(
            meeting(),
            [record(at(1), at(20), conference_id="900000002")],
            None,
            id="another-conferences-session-is-not-ours",
        ),
        pytest.param(
            meeting(), [record(at(1), None)], None, id="session-without-an-end-is-not-over"
        ),
        pytest.param(
            meeting(start_at=at(24 * 60), watch_from=at(24 * 60 - 15)),
            [record(at(1), at(20))],
            None,
            id="recurring-meeting-ignores-yesterdays-occurrence",
        ),
        pytest.param(
            meeting(),
            [record(at(-30), at(-17))],
            None,
            id="session-that-ended-before-we-started-watching-is-an-earlier-one",
        ),
        pytest.param(
            meeting(),
            [record(at(-40), at(-17)), record(at(-20), at(-15.5))],
            1,
            id="session-ending-within-a-minute-of-the-watch-start-counts-minute-precision",
        ),
        pytest.param(
            meeting(),
            [record(at(1), at(10)), record(at(12), at(25)), record(at(-5), at(0))],
            1,
            id="restarted-meeting-takes-its-latest-session",
        ),
        pytest.param(
            meeting(state=MeetingState.LIVE, started_at=at(5)),
            [record(at(-10), at(3)), record(at(5), at(25))],
            1,
            id="live-meeting-takes-the-session-after-it-was-seen-live",
        ),
        pytest.param(
            meeting(watch_from=None),
            [record(at(-20), at(-2)), record(at(-1), at(20))],
            1,
            id="without-a-watch-start-the-scheduled-start-is-the-floor",
        ),
    ],
)
def test_pick_session(row: MeetingRow, records: list[Conference], expected: int | None) -> None:
    picked = pick_session(row, records)
    assert picked is (None if expected is None else records[expected])


@pytest.mark.parametrize(
    ("row", "occurrence", "now", "expected"),
    [
        pytest.param(meeting(state=MeetingState.ENDED), T0, at(-60), True, id="ended-meeting"),
        pytest.param(
            meeting(state=MeetingState.CANCELLED), T0, at(-60), True, id="cancelled-meeting"
        ),
        pytest.param(
            meeting(start_at=at(24 * 60)),
            T0,
            at(-60),
            True,
            id="recurring-meeting-has-moved-on-past-this-occurrence",
        ),
        pytest.param(
            meeting(), at(24 * 60), at(60), False, id="a-later-occurrence-is-still-to-come"
        ),
        pytest.param(
            meeting(state=MeetingState.LIVE),
            T0,
            at(120),
            False,
            id="running-meeting-is-not-over-however-long-it-runs",
        ),
        pytest.param(meeting(), T0, at(29), False, id="scheduled-occurrence-within-its-time"),
        pytest.param(
            meeting(), T0, at(30), True, id="scheduled-occurrence-past-its-end-never-happened"
        ),
    ],
)
def test_occurrence_over(
    row: MeetingRow, occurrence: datetime, now: datetime, expected: bool
) -> None:
    assert occurrence_over(row, occurrence, now) is expected


@pytest.mark.parametrize(
    ("owed", "row", "now", "expected"),
    [
        pytest.param(delivery(), meeting(), at(-10), Fate.POST, id="reminder-on-time-is-posted"),
        pytest.param(
            delivery(),
            meeting(),
            at(5),
            Fate.POST,
            id="late-reminder-is-still-posted-while-the-meeting-can-be-joined",
        ),
        pytest.param(
            delivery(), meeting(), at(30), Fate.DROP, id="reminder-after-the-meeting-is-dropped"
        ),
        pytest.param(
            delivery(),
            meeting(state=MeetingState.CANCELLED),
            at(-10),
            Fate.DROP,
            id="reminder-of-a-cancelled-meeting-is-dropped",
        ),
        pytest.param(
            delivery(),
            meeting(channel_id=None),
            at(-10),
            Fate.TO_PEOPLE,
            id="reminder-with-no-channel-goes-to-people",
        ),
        pytest.param(
            delivery(),
            meeting(message_ts=None),
            at(-10),
            Fate.POST,
            id="reminder-does-not-wait-for-the-card",
        ),
        pytest.param(
            delivery(kind="started"),
            meeting(message_ts=None),
            at(1),
            Fate.WAIT,
            id="started-reply-waits-until-the-card-is-posted",
        ),
        pytest.param(
            delivery(kind="started"),
            meeting(message_ts=""),
            at(1),
            Fate.TO_PEOPLE,
            id="started-reply-to-a-privately-shown-card-goes-to-people",
        ),
        pytest.param(
            delivery(kind="ended"),
            meeting(channel_id=None),
            at(40),
            Fate.TO_PEOPLE,
            id="ended-reply-with-no-channel-goes-to-people",
        ),
        pytest.param(
            delivery(kind="ended"),
            meeting(state=MeetingState.ENDED),
            at(40),
            Fate.POST,
            id="ended-reply-is-posted-under-the-card-after-the-meeting",
        ),
        pytest.param(
            delivery(),
            meeting(message_ts=""),
            at(-10),
            Fate.TO_PEOPLE,
            id="reminder-of-a-privately-shown-card-goes-to-people",
        ),
        pytest.param(
            delivery(payload={"channel": "CREMIND"}),
            meeting(message_ts=""),
            at(-10),
            Fate.POST,
            id="reminder-for-the-workspace-reminder-channel-is-posted-there",
        ),
        pytest.param(
            delivery(recipient="UBOB"),
            meeting(message_ts=""),
            at(-10),
            Fate.POST,
            id="reminder-addressed-to-a-person-is-posted",
        ),
        pytest.param(
            delivery(recipient="UBOB"),
            meeting(message_ts=""),
            at(30),
            Fate.DROP,
            id="reminder-to-a-person-after-the-meeting-is-dropped",
        ),
        pytest.param(
            delivery(kind="started", recipient="UBOB", due_at=at(1)),
            meeting(message_ts=None, state=MeetingState.LIVE),
            at(2),
            Fate.POST,
            id="started-notice-to-a-person-does-not-wait-for-a-card",
        ),
        pytest.param(
            delivery(kind="started", due_at=at(1)),
            meeting(state=MeetingState.LIVE),
            at(61),
            Fate.POST,
            id="started-notice-an-hour-late-is-still-posted",
        ),
        pytest.param(
            delivery(kind="started", due_at=at(1)),
            meeting(message_ts=None, state=MeetingState.LIVE),
            at(61.5),
            Fate.LATE,
            id="started-notice-more-than-an-hour-late-is-dropped-as-late",
        ),
    ],
)
def test_delivery_fate(owed: DeliveryRow, row: MeetingRow, now: datetime, expected: Fate) -> None:
    assert delivery_fate(owed, row, now) is expected


@pytest.mark.parametrize(
    ("owed", "expected"),
    [
        pytest.param([], set(), id="nothing-claimed"),
        pytest.param([delivery()], set(), id="a-lone-reminder-goes-out"),
        pytest.param(
            [delivery(id=1), delivery(id=2, kind="reminder:0", due_at=T0)],
            {1},
            id="after-downtime-only-the-latest-reminder-of-an-occurrence-goes-out",
        ),
        pytest.param(
            [delivery(id=1), delivery(id=2, occurrence=at(24 * 60), due_at=at(24 * 60 - 10))],
            set(),
            id="reminders-of-different-occurrences-both-go-out",
        ),
        pytest.param(
            [delivery(id=1), delivery(id=2, meeting_id=2, due_at=T0)],
            set(),
            id="reminders-of-different-meetings-both-go-out",
        ),
        pytest.param(
            [delivery(id=1), delivery(id=2, team_id="T2", due_at=T0)],
            set(),
            id="same-meeting-id-in-another-workspace-is-another-meeting",
        ),
        pytest.param(
            [
                delivery(id=1, recipient="UALICE"),
                delivery(id=2, recipient="UBOB"),
                delivery(id=3, recipient="UBOB", kind="reminder:0", due_at=T0),
            ],
            {2},
            id="each-persons-latest-reminder-goes-out-to-them",
        ),
        pytest.param(
            [delivery(id=1), delivery(id=2, kind="started", due_at=at(1))],
            set(),
            id="a-started-reply-never-supersedes-a-reminder",
        ),
        pytest.param(
            [
                delivery(id=1, kind="started", due_at=at(1)),
                delivery(id=2, kind="ended", due_at=at(30)),
            ],
            set(),
            id="started-and-ended-replies-are-never-superseded",
        ),
    ],
)
def test_superseded(owed: Sequence[DeliveryRow], expected: set[int]) -> None:
    assert superseded(owed) == expected


@pytest.mark.parametrize(
    ("started", "ended", "expected"),
    [
        pytest.param(T0, T0, 0, id="ended-as-it-began"),
        pytest.param(T0, at(0.98), 0, id="under-a-minute-shows-zero"),
        pytest.param(T0, at(45), 45, id="whole-minutes"),
        pytest.param(T0, at(90.5), 90, id="part-minutes-are-cut-not-rounded"),
        pytest.param(T0, at(25 * 60), 1500, id="longer-than-a-day"),
        pytest.param(at(5), T0, 0, id="vendor-clock-skew-never-shows-negative"),
    ],
)
def test_lasted_minutes(started: datetime, ended: datetime, expected: int) -> None:
    assert lasted_minutes(started, ended) == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param(meeting(), ("UALICE",), id="organizer-alone"),
        pytest.param(
            meeting(invitees=("UBOB", "UALICE", "UCARL", "UBOB")),
            ("UALICE", "UBOB", "UCARL"),
            id="organizer-first-then-each-invitee-once",
        ),
    ],
)
def test_dm_recipients(row: MeetingRow, expected: tuple[str, ...]) -> None:
    assert dm_recipients(row) == expected
