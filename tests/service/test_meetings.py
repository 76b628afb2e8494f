"""The meeting rules as tables: recurrence in words (as cards show it) and as stored, and
which occurrences a booked meeting has."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot import commands as cmd
from bot.huawei.answers import Conference, SubConference
from bot.service import describe_recurrence, occurrences_of, recurrence_record
from tests.service.rows import CONFERENCE_ID, T0, at

DAY = 24 * 60


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        pytest.param(cmd.Recurrence(cmd.Frequency.DAILY), "every day", id="daily"),
        pytest.param(
            cmd.Recurrence(cmd.Frequency.WEEKDAYS, (0, 1, 2, 3, 4)),
            "every weekday",
            id="weekdays-read-as-one-word",
        ),
        pytest.param(cmd.Recurrence(cmd.Frequency.MONTHLY), "every month", id="monthly"),
        pytest.param(
            cmd.Recurrence(cmd.Frequency.WEEKLY, (0,)), "every Monday", id="weekly-names-its-day"
        ),
        pytest.param(
            cmd.Recurrence(cmd.Frequency.WEEKLY, (1, 3)),
            "every Tuesday and Thursday",
            id="weekly-on-two-days-names-both",
        ),
        pytest.param(
            cmd.Recurrence(cmd.Frequency.WEEKLY, (6,)),
            "every Sunday",
            id="sunday-is-the-last-day-of-our-week",
        ),
        pytest.param(cmd.Recurrence(cmd.Frequency.WEEKLY), "every week", id="weekly-without-days"),
        pytest.param(
            cmd.Recurrence(cmd.Frequency.DAILY, until=date(2026, 6, 30)),
            "every day until 2026-06-30",
            id="an-end-date-is-shown",
        ),
    ],
)
def test_describe_recurrence(rule: cmd.Recurrence, expected: str) -> None:
    assert describe_recurrence(rule) == expected


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        pytest.param(
            cmd.Recurrence(cmd.Frequency.DAILY),
            {"frequency": "daily", "weekdays": [], "until": None, "text": "every day"},
            id="open-ended-daily-stores-no-end",
        ),
        pytest.param(
            cmd.Recurrence(cmd.Frequency.WEEKLY, (0, 2), until=date(2026, 12, 31)),
            {
                "frequency": "weekly",
                "weekdays": [0, 2],
                "until": "2026-12-31",
                "text": "every Monday and Wednesday until 2026-12-31",
            },
            id="weekly-stores-its-days-end-and-the-cards-words",
        ),
    ],
)
def test_recurrence_record(rule: cmd.Recurrence, expected: dict[str, object]) -> None:
    assert recurrence_record(rule) == expected


def _sub(start: datetime | None) -> SubConference:
    return SubConference(cycle_sub_conf_id=f"sub-{start}", start=start)


@pytest.mark.parametrize(
    ("conference", "expected"),
    [
        pytest.param(
            Conference(conference_id=CONFERENCE_ID, start=at(5)),
            [at(5)],
            id="single-meeting-starts-when-the-vendor-says",
        ),
        pytest.param(
            Conference(conference_id=CONFERENCE_ID),
            [T0],
            id="without-a-vendor-start-the-requested-start-is-used",
        ),
        pytest.param(
            Conference(
                conference_id=CONFERENCE_ID,
                start=T0,
                sub_confs=(_sub(T0), _sub(at(DAY)), _sub(at(2 * DAY))),
            ),
            [T0, at(DAY), at(2 * DAY)],
            id="recurring-meeting-has-every-occurrence-the-vendor-created",
        ),
        pytest.param(
            Conference(
                conference_id=CONFERENCE_ID, start=T0, sub_confs=(_sub(None), _sub(at(DAY)))
            ),
            [at(DAY)],
            id="an-occurrence-without-a-start-is-skipped",
        ),
        pytest.param(
            Conference(conference_id=CONFERENCE_ID, start=at(1), sub_confs=(_sub(None),)),
            [at(1)],
            id="no-usable-occurrence-falls-back-to-the-meetings-start",
        ),
    ],
)
def test_occurrences_of(conference: Conference, expected: list[datetime]) -> None:
    assert occurrences_of(conference, T0) == expected
