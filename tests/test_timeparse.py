"""bot.timeparse: time phrases in English and Chinese, durations, DST, and words that are not times."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.timeparse import parse_date, parse_duration, parse_when

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")

# Wednesday 4 March 2026, 10:00 in Shanghai.
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)


def local(
    year: int, month: int, day: int, hour: int, minute: int, *, tz: ZoneInfo = SHANGHAI
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        pytest.param("today 14:30", local(2026, 3, 4, 14, 30), id="today-14:30"),
        pytest.param("3pm", local(2026, 3, 4, 15, 0), id="3pm"),
        pytest.param("3 PM", local(2026, 3, 4, 15, 0), id="3-PM-spaced"),
        pytest.param("9:30 am", local(2026, 3, 4, 9, 30), id="9:30-am"),
        pytest.param("in 2 hours", local(2026, 3, 4, 12, 0), id="in-2-hours"),
        pytest.param("in 90 minutes", local(2026, 3, 4, 11, 30), id="in-90-minutes"),
        pytest.param("in an hour", local(2026, 3, 4, 11, 0), id="in-an-hour"),
        pytest.param("tomorrow 3pm", local(2026, 3, 5, 15, 0), id="tomorrow-3pm"),
        pytest.param("3pm tomorrow", local(2026, 3, 5, 15, 0), id="3pm-tomorrow"),
        pytest.param("tomorrow at 3pm", local(2026, 3, 5, 15, 0), id="tomorrow-at-3pm"),
        pytest.param("tomorrow, 3pm", local(2026, 3, 5, 15, 0), id="tomorrow-comma-3pm"),
        pytest.param("next mon 09:30", local(2026, 3, 9, 9, 30), id="next-mon"),
        pytest.param("monday 10am", local(2026, 3, 9, 10, 0), id="monday-10am"),
        pytest.param("on thurs at 4pm", local(2026, 3, 5, 16, 0), id="on-thurs-at-4pm"),
        pytest.param("this fri 4pm", local(2026, 3, 6, 16, 0), id="this-fri"),
        pytest.param("12/24 14:00", local(2026, 12, 24, 14, 0), id="month-day"),
        pytest.param("dec 24 2pm", local(2026, 12, 24, 14, 0), id="month-name-day"),
        pytest.param("24th of december 14:00", local(2026, 12, 24, 14, 0), id="ordinal-of-month"),
        pytest.param("2027-01-15 09:00", local(2027, 1, 15, 9, 0), id="iso"),
        pytest.param("in 2 days 10:00", local(2026, 3, 6, 10, 0), id="in-2-days"),
        pytest.param("the day after tomorrow at 10am", local(2026, 3, 6, 10, 0), id="day-after"),
        pytest.param("at 9", local(2026, 3, 4, 9, 0), id="at-9-is-09:00"),
        pytest.param("tomorrow at 9", local(2026, 3, 5, 9, 0), id="tomorrow-at-9"),
        pytest.param("tonight at 8", local(2026, 3, 4, 20, 0), id="tonight-at-8-is-pm"),
        pytest.param("tomorrow noon", local(2026, 3, 5, 12, 0), id="noon"),
        pytest.param("tmrw 3pm", local(2026, 3, 5, 15, 0), id="tmrw"),
        pytest.param("明天下午3点", local(2026, 3, 5, 15, 0), id="zh-明天下午3点"),
        pytest.param("明天 15:00", local(2026, 3, 5, 15, 0), id="zh-明天-15:00"),
        pytest.param("后天上午10点", local(2026, 3, 6, 10, 0), id="zh-后天上午10点"),
        pytest.param("下周一 上午10点", local(2026, 3, 9, 10, 0), id="zh-下周一"),
        pytest.param("今天晚上8点半", local(2026, 3, 4, 20, 30), id="zh-今天晚上8点半"),
        pytest.param("下午3点", local(2026, 3, 4, 15, 0), id="zh-下午3点"),
        pytest.param("明晚八点", local(2026, 3, 5, 20, 0), id="zh-明晚八点"),
        pytest.param("周五 9点一刻", local(2026, 3, 6, 9, 15), id="zh-周五-quarter"),
        pytest.param("星期天下午两点", local(2026, 3, 8, 14, 0), id="zh-星期天"),
        pytest.param("中午12点", local(2026, 3, 4, 12, 0), id="zh-中午12点"),
        pytest.param("下午3:30", local(2026, 3, 4, 15, 30), id="zh-下午3:30"),
        pytest.param("12月24日 14:00", local(2026, 12, 24, 14, 0), id="zh-12月24日"),
        pytest.param("2小时后", local(2026, 3, 4, 12, 0), id="zh-2小时后"),
        pytest.param("半小时后", local(2026, 3, 4, 10, 30), id="zh-半小时后"),
    ],
)
def test_parse_when_reads_phrase_inside_a_topic(phrase: str, expected: datetime) -> None:
    text = f"Design review {phrase} please"
    found = parse_when(text, now=NOW, tz=SHANGHAI)

    assert found is not None
    assert found.start == expected
    assert found.start.tzinfo == SHANGHAI
    assert found.phrase == phrase
    assert text[found.span[0] : found.span[1]] == phrase


def test_chinese_phrase_is_found_without_spaces_around_it() -> None:
    text = "周会明天下午3点开会"
    found = parse_when(text, now=NOW, tz=SHANGHAI)

    assert found is not None
    assert (found.phrase, found.span) == ("明天下午3点", (2, 8))
    assert found.start == local(2026, 3, 5, 15, 0)


def test_next_week_weekday_in_chinese_is_in_next_calendar_week() -> None:
    monday_morning = local(2026, 3, 2, 8, 0)

    found = parse_when("下周三 10点", now=monday_morning, tz=SHANGHAI)

    # Not the coming Wednesday (4 March): 下周三 is the Wednesday of next week.
    assert found is not None
    assert found.start == local(2026, 3, 11, 10, 0)


def test_bare_time_already_past_stays_today() -> None:
    four_pm = local(2026, 3, 4, 16, 0)

    found = parse_when("Standup 3pm", now=four_pm, tz=SHANGHAI)

    assert found is not None
    assert found.start == local(2026, 3, 4, 15, 0)


def test_weekday_name_said_on_that_day_means_next_week() -> None:
    monday_morning = local(2026, 3, 2, 8, 0)

    found = parse_when("Sync monday 10am", now=monday_morning, tz=SHANGHAI)

    assert found is not None
    assert found.start == local(2026, 3, 9, 10, 0)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        pytest.param("1/15 10:00", local(2027, 1, 15, 10, 0), id="passed-this-year-is-next-year"),
        pytest.param("3/4 14:00", local(2026, 3, 4, 14, 0), id="today-stays-this-year"),
        pytest.param("3/4 9:00", local(2026, 3, 4, 9, 0), id="today-earlier-stays-past"),
        pytest.param("12/24/2026 14:00", local(2026, 12, 24, 14, 0), id="explicit-year"),
    ],
)
def test_month_day_year_rules(phrase: str, expected: datetime) -> None:
    found = parse_when(phrase, now=NOW, tz=SHANGHAI)

    assert found is not None
    assert found.start == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Q3 review", id="Q3"),
        pytest.param("1:1 with Bob", id="one-on-one"),
        pytest.param("May the force be with us", id="may"),
        pytest.param("March planning", id="march"),
        pytest.param("We sat down with design", id="sat"),
        pytest.param("now", id="now"),
        pytest.param("second round", id="second"),
        pytest.param("a meeting", id="a"),
        pytest.param("Sprint 5 retro", id="bare-number"),
        pytest.param("Budget 2026", id="year"),
        pytest.param("Standup tomorrow", id="date-without-clock"),
        pytest.param("12/24 party", id="month-day-without-clock"),
        pytest.param("Sun team sync", id="sun"),
        pytest.param("in 30", id="offset-without-unit"),
        pytest.param("Release 1.25", id="version"),
        pytest.param("三季度复盘", id="zh-number-without-点"),
        pytest.param("Sprint 5-6 review", id="number-range-is-not-a-time"),
        pytest.param("Sync 10pm today - 2am tomorrow", id="range-over-two-dates-refused"),
    ],
)
def test_words_and_numbers_in_topics_are_not_times(text: str) -> None:
    assert parse_when(text, now=NOW, tz=SHANGHAI) is None


@pytest.mark.parametrize(
    ("text", "phrase", "expected"),
    [
        pytest.param("Q3 tomorrow 3pm", "tomorrow 3pm", local(2026, 3, 5, 15, 0), id="Q3"),
        pytest.param(
            "OKR Q3 tomorrow at 3pm", "tomorrow at 3pm", local(2026, 3, 5, 15, 0), id="OKR-Q3"
        ),
        pytest.param(
            "1:1 with Bob tomorrow 3pm", "tomorrow 3pm", local(2026, 3, 5, 15, 0), id="1:1"
        ),
        pytest.param(
            "Sprint 12 tomorrow 3pm", "tomorrow 3pm", local(2026, 3, 5, 15, 0), id="number"
        ),
        pytest.param("Room 7 at 3pm", "at 3pm", local(2026, 3, 4, 15, 0), id="room-number"),
        pytest.param("Team of 5 14:00", "14:00", local(2026, 3, 4, 14, 0), id="of-5"),
        pytest.param(
            "Release 1.25 tomorrow 3pm", "tomorrow 3pm", local(2026, 3, 5, 15, 0), id="version"
        ),
        pytest.param(
            "May we talk tomorrow 3pm", "tomorrow 3pm", local(2026, 3, 5, 15, 0), id="may"
        ),
        pytest.param("March kickoff 3pm", "3pm", local(2026, 3, 4, 15, 0), id="march"),
        pytest.param("3pm on the roof", "3pm", local(2026, 3, 4, 15, 0), id="trailing-on"),
        pytest.param(
            "Discuss 10:00 incident tomorrow 3pm",
            "tomorrow 3pm",
            local(2026, 3, 5, 15, 0),
            id="dated-phrase-preferred",
        ),
    ],
)
def test_real_phrase_is_found_next_to_false_friends(
    text: str, phrase: str, expected: datetime
) -> None:
    found = parse_when(text, now=NOW, tz=SHANGHAI)

    assert found is not None
    assert (found.phrase, found.start) == (phrase, expected)


@pytest.mark.parametrize(
    ("tz", "now", "expected_utc"),
    [
        # The US springs forward on Sunday 8 March 2026 and falls back on Sunday 1 November.
        pytest.param(
            NEW_YORK,
            local(2026, 3, 7, 18, 0, tz=NEW_YORK),
            datetime(2026, 3, 8, 13, 0, tzinfo=UTC),
            id="new-york-eve-of-spring-forward",
        ),
        pytest.param(
            NEW_YORK,
            local(2026, 10, 31, 18, 0, tz=NEW_YORK),
            datetime(2026, 11, 1, 14, 0, tzinfo=UTC),
            id="new-york-eve-of-fall-back",
        ),
        # The UK changes on Sunday 29 March and Sunday 25 October 2026.
        pytest.param(
            LONDON,
            local(2026, 3, 28, 18, 0, tz=LONDON),
            datetime(2026, 3, 29, 8, 0, tzinfo=UTC),
            id="london-eve-of-spring-forward",
        ),
        pytest.param(
            LONDON,
            local(2026, 10, 24, 18, 0, tz=LONDON),
            datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
            id="london-eve-of-fall-back",
        ),
        pytest.param(
            SHANGHAI,
            local(2026, 3, 7, 18, 0),
            datetime(2026, 3, 8, 1, 0, tzinfo=UTC),
            id="shanghai-no-dst",
        ),
    ],
)
def test_tomorrow_uses_tomorrows_utc_offset(
    tz: ZoneInfo, now: datetime, expected_utc: datetime
) -> None:
    found = parse_when("Standup tomorrow 9:00", now=now, tz=tz)

    assert found is not None
    assert found.start.astimezone(UTC) == expected_utc
    assert (found.start.hour, found.start.minute) == (9, 0)


def test_wall_time_in_spring_forward_gap_moves_forward_by_the_gap() -> None:
    # 02:30 on 8 March 2026 does not exist in New York: clocks jump from 02:00 to 03:00.
    found = parse_when(
        "Deploy tomorrow 2:30am", now=local(2026, 3, 7, 12, 0, tz=NEW_YORK), tz=NEW_YORK
    )

    assert found is not None
    assert found.start.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert (found.start.hour, found.start.minute) == (3, 30)


def test_wall_time_in_fall_back_fold_takes_first_occurrence() -> None:
    # 01:30 on 1 November 2026 happens twice in New York: first in EDT (UTC-4), then in EST.
    found = parse_when(
        "Deploy tomorrow 1:30am", now=local(2026, 10, 31, 12, 0, tz=NEW_YORK), tz=NEW_YORK
    )

    assert found is not None
    assert found.start.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_offset_is_elapsed_time_across_a_dst_change() -> None:
    one_am = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # 01:00 EST, an hour before the jump

    found = parse_when("Sync in 2 hours", now=one_am, tz=NEW_YORK)

    assert found is not None
    assert found.start.astimezone(UTC) == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)
    assert found.start.hour == 4  # 04:00 EDT: two real hours later


def test_now_in_another_zone_is_read_in_the_users_zone() -> None:
    # 23:30 UTC on 4 March is already 5 March in Shanghai, so "tomorrow" is 6 March.
    found = parse_when("tomorrow 9:00", now=datetime(2026, 3, 4, 23, 30, tzinfo=UTC), tz=SHANGHAI)

    assert found is not None
    assert found.start == local(2026, 3, 6, 9, 0)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("tomorrow 3pm", now=datetime(2026, 3, 4, 10, 0), tz=SHANGHAI)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        pytest.param("45m", 45, id="45m"),
        pytest.param("1h", 60, id="1h"),
        pytest.param("1h30m", 90, id="1h30m"),
        pytest.param("1h 30", 90, id="1h-30"),
        pytest.param("90 minutes", 90, id="90-minutes"),
        pytest.param("1.5h", 90, id="1.5h"),
        pytest.param("2 hours", 120, id="2-hours"),
        pytest.param("30 min", 30, id="30-min"),
        pytest.param("1 hour and 15 minutes", 75, id="hour-and-minutes"),
        pytest.param("an hour", 60, id="an-hour"),
        pytest.param("half an hour", 30, id="half-an-hour"),
        pytest.param("1小时", 60, id="1小时"),
        pytest.param("半小时", 30, id="半小时"),
        pytest.param("90分钟", 90, id="90分钟"),
        pytest.param("一个半小时", 90, id="一个半小时"),
        pytest.param("1小时30分钟", 90, id="1小时30分钟"),
        pytest.param("两小时", 120, id="两小时"),
    ],
)
def test_parse_duration_reads_minutes(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["90", "h", "1x", "soon", "小时", "for 30m", "30m tomorrow", ""])
def test_parse_duration_refuses_what_is_not_a_duration(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("12/31", date(2026, 12, 31), id="month-day"),
        pytest.param("1/15", date(2027, 1, 15), id="passed-is-next-year"),
        pytest.param("dec 31", date(2026, 12, 31), id="month-name"),
        pytest.param("2027-01-15", date(2027, 1, 15), id="iso"),
        pytest.param("friday", date(2026, 3, 6), id="weekday"),
        pytest.param("12月31日", date(2026, 12, 31), id="zh"),
    ],
)
def test_parse_date_reads_a_whole_date(text: str, expected: date) -> None:
    assert parse_date(text, now=NOW, tz=SHANGHAI) == expected


@pytest.mark.parametrize("text", ["5", "blah", "tomorrow 3pm", "12/31 party"])
def test_parse_date_refuses_anything_else(text: str) -> None:
    assert parse_date(text, now=NOW, tz=SHANGHAI) is None


# --- numbers and dates at the edges of what Python can hold --------------------------------------

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
TOKYO = ZoneInfo("Asia/Tokyo")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("99999999999 hours", id="11-digit-hours"),
        pytest.param("9" * 400 + "h", id="400-digit-hours"),
        pytest.param("1h " + "9" * 5000 + "m", id="5000-digit-minutes"),
        pytest.param("9" * 5000 + "分钟", id="zh-5000-digit-minutes"),
        pytest.param("1234567 minutes", id="7-digits"),
    ],
)
def test_parse_duration_refuses_numbers_too_long_to_be_a_duration(text: str) -> None:
    assert parse_duration(text) is None


def test_parse_duration_reads_six_digits() -> None:
    assert parse_duration("999999 minutes") == 999999


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("in 99999999999 hours", id="in-11-digit-hours"),
        pytest.param("in " + "9" * 400 + " hours", id="in-400-digit-hours"),
        pytest.param("99999999999小时后", id="zh-11-digit-hours"),
        pytest.param("in 1234567 minutes", id="not-the-last-six-digits"),
    ],
)
def test_an_offset_with_a_number_too_long_is_no_time(text: str) -> None:
    assert parse_when(text, now=NOW, tz=SHANGHAI) is None


def test_an_offset_past_year_9999_is_no_time() -> None:
    late = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)

    assert parse_when("in 2 hours", now=late, tz=ZoneInfo("UTC")) is None


@pytest.mark.parametrize(
    ("text", "tz"),
    [
        pytest.param("9999-12-31 23:30", LOS_ANGELES, id="9999-in-los-angeles"),
        pytest.param("12/31/9999 11:30pm", LOS_ANGELES, id="9999-month-day-year"),
        pytest.param("9999年12月31日 23:30", LOS_ANGELES, id="9999-zh"),
        pytest.param("0001-01-01 00:10", TOKYO, id="year-1-in-tokyo"),
    ],
)
def test_a_time_outside_the_years_datetime_holds_is_no_time(text: str, tz: ZoneInfo) -> None:
    assert parse_when(text, now=NOW, tz=tz) is None


def test_the_last_minutes_of_year_9999_are_a_time_where_they_exist() -> None:
    found = parse_when("9999-12-31 23:30", now=NOW, tz=KIRITIMATI)

    assert found is not None
    assert found.start == datetime(9999, 12, 31, 23, 30, tzinfo=KIRITIMATI)
