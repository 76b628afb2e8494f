"""An unclear time asks instead of guessing: the readings /meet offers (bot.commands), and a
reading that comes back from a button checked again (check_schedule)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.commands import Ambiguous, ErrorKind, Schedule, check_schedule, parse_command

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def ask(text: str, now: datetime) -> Ambiguous:
    command = parse_command(text, now=now, tz=now.tzinfo)  # type: ignore[arg-type]
    assert isinstance(command, Ambiguous), command
    return command


def walls(question: Ambiguous, tz: ZoneInfo) -> list[str]:
    return [f"{r.start.astimezone(tz):%Y-%m-%d %H:%M}" for r in question.readings]


@pytest.mark.parametrize(
    ("text", "now", "readings"),
    [
        # Wednesday 4 March 2026, 10:00 in New York.
        pytest.param("Standup 9", datetime(2026, 3, 4, 10, tzinfo=NEW_YORK), None, id="bare-9-no-time"),
        pytest.param(
            "Standup 9:00", datetime(2026, 3, 4, 10, tzinfo=NEW_YORK),
            ["2026-03-04 21:00", "2026-03-05 09:00"], id="past-clock-today-pm-or-tomorrow",
        ),
        pytest.param(
            "Standup 9am", datetime(2026, 3, 4, 10, tzinfo=NEW_YORK),
            ["2026-03-05 09:00"], id="past-am-only-tomorrow",
        ),
        pytest.param(
            "Standup 09:00", datetime(2026, 3, 4, 10, tzinfo=NEW_YORK),
            ["2026-03-05 09:00"], id="past-24h-clock-only-tomorrow",
        ),
        pytest.param(
            "Planning 8-9am", datetime(2026, 3, 4, 10, tzinfo=NEW_YORK),
            ["2026-03-05 08:00"], id="past-range-tomorrow",
        ),
        # Saturday 7 March, New York clocks spring forward on Sunday 8 March at 02:00.
        pytest.param(
            "Ops 1:30am", datetime(2026, 3, 7, 23, tzinfo=NEW_YORK),
            ["2026-03-08 01:30"], id="new-york-dst-eve",
        ),
        pytest.param(
            "Ops 2:30am", datetime(2026, 3, 7, 23, tzinfo=NEW_YORK),
            ["2026-03-08 03:30"], id="new-york-dst-gap-moves-forward",
        ),
        # Saturday 28 March, Berlin springs forward on Sunday 29 March.
        pytest.param(
            "Sync tomorrow", datetime(2026, 3, 28, 20, tzinfo=BERLIN),
            ["2026-03-29 09:00", "2026-03-29 14:00"], id="berlin-dst-eve-date-only",
        ),
        pytest.param(
            "Standup next wednesday", datetime(2026, 3, 4, 10, tzinfo=NEW_YORK),
            ["2026-03-11 09:00", "2026-03-11 14:00"], id="date-only",
        ),
        pytest.param(
            "Sync friday 3 march 10am", datetime(2026, 3, 2, 10, tzinfo=NEW_YORK),
            ["2026-03-06 10:00", "2026-03-03 10:00"], id="weekday-contradicts-date",
        ),
        pytest.param(
            "Retro friday of next week tomorrow 09:00", datetime(2026, 3, 4, 10, tzinfo=NEW_YORK),
            ["2026-03-13 09:00", "2026-03-05 09:00"], id="two-dates",
        ),
        pytest.param(
            "Sync tomorrow standup 3pm", datetime(2026, 3, 4, 10, tzinfo=NEW_YORK),
            ["2026-03-04 15:00"], id="leftover-time-word",
        ),
        pytest.param(
            "周会 明天", datetime(2026, 3, 4, 10, tzinfo=SHANGHAI),
            ["2026-03-05 09:00", "2026-03-05 14:00"], id="zh-date-only",
        ),
        pytest.param(
            "周会 9点", datetime(2026, 3, 4, 10, tzinfo=SHANGHAI),
            ["2026-03-04 21:00", "2026-03-05 09:00"], id="zh-past-clock",
        ),
        pytest.param(
            "周会 上午9点", datetime(2026, 3, 4, 10, tzinfo=SHANGHAI),
            ["2026-03-05 09:00"], id="zh-past-morning-only-tomorrow",
        ),
    ],
)  # fmt: skip
def test_unclear_time_offers_its_likely_readings(
    text: str, now: datetime, readings: list[str] | None
) -> None:
    tz = now.tzinfo
    assert isinstance(tz, ZoneInfo)
    if readings is None:
        assert not isinstance(parse_command(text, now=now, tz=tz), Ambiguous)
        return
    question = ask(text, now)
    assert walls(question, tz) == readings
    for reading in question.readings:  # each reading can be booked as it is
        assert check_schedule(reading, now=now) is None
        assert reading.tz_name == tz.key


def test_a_reading_keeps_topic_duration_and_invitees() -> None:
    question = ask("Retro 9am for 45m with <@UBOB|bob>", datetime(2026, 3, 4, 10, tzinfo=NEW_YORK))
    (reading,) = question.readings
    assert (reading.topic, reading.duration_minutes, reading.invitees) == ("Retro", 45, ("UBOB",))
    assert question.form.topic == "Retro"
    assert question.form.invitees == ("UBOB",)


def test_a_weekday_that_agrees_with_the_date_is_just_a_date() -> None:
    command = parse_command(
        "Sync Friday 6 March 10am", now=datetime(2026, 3, 2, 10, tzinfo=NEW_YORK), tz=NEW_YORK
    )
    assert isinstance(command, Schedule)
    assert command.start == datetime(2026, 3, 6, 15, tzinfo=UTC)


def test_a_reading_that_breaks_the_series_is_not_offered() -> None:
    # 9am passed on a Wednesday; tomorrow is a Thursday, which "every wed" excludes.
    question = ask("Standup 9am every wed", datetime(2026, 3, 4, 10, tzinfo=NEW_YORK))
    assert question.readings == ()


def test_the_date_only_form_is_prefilled_with_that_date() -> None:
    question = ask("Standup next wednesday", datetime(2026, 3, 4, 10, tzinfo=NEW_YORK))
    assert question.form.start.astimezone(NEW_YORK).date().isoformat() == "2026-03-11"


NOW = datetime(2026, 3, 4, 10, tzinfo=NEW_YORK)
GOOD = Schedule("Retro", datetime(2026, 3, 5, 14, tzinfo=UTC), "America/New_York", 30)


@pytest.mark.parametrize(
    ("request_", "kind"),
    [
        pytest.param(GOOD, None, id="valid"),
        pytest.param(replace(GOOD, start=NOW - timedelta(minutes=5)), ErrorKind.PAST_TIME, id="past"),
        pytest.param(replace(GOOD, start=NOW + timedelta(days=400)), ErrorKind.TOO_FAR_AHEAD, id="far"),
        pytest.param(replace(GOOD, topic="x" * 129), ErrorKind.TOPIC_TOO_LONG, id="topic"),
        pytest.param(replace(GOOD, duration_minutes=5), ErrorKind.DURATION_OUT_OF_RANGE, id="short"),
        pytest.param(replace(GOOD, invitees=("U1",) * 51), ErrorKind.TOO_MANY_INVITEES, id="crowd"),
    ],
)  # fmt: skip
def test_a_reading_from_a_button_is_checked_again(
    request_: Schedule, kind: ErrorKind | None
) -> None:
    error = check_schedule(request_, now=NOW)
    assert (error and error.kind) == kind
