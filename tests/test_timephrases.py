"""bot.timeparse on the forms of issue 11, in English and Chinese, in several zones: ranges read
as start + length, offsets, a part of the day with a number, o'clock, and dates ("friday of next
week", "the 24th", "下下周三"). `now` is fixed; two of the zones are on the eve of a DST change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.timeparse import parse_when

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Saturday 7 March 2026 10:00 EST: New York springs forward on Sunday 8 March (02:00 -> 03:00).
NY_EVE = datetime(2026, 3, 7, 10, 0, tzinfo=NEW_YORK)
# Saturday 24 October 2026 09:00 CEST: Berlin falls back on Sunday 25 October (03:00 -> 02:00).
BERLIN_EVE = datetime(2026, 10, 24, 9, 0, tzinfo=BERLIN)
# Wednesday 4 March 2026 10:00 in Shanghai (no DST).
SH_NOW = datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)

CASES = [
    # (id, text, now, expected start as wall time in now's zone, expected range length)
    ("friday-of-next-week", "friday of next week at 9am", NY_EVE, (3, 13, 9, 0), None),
    ("friday-of-next-week-berlin", "Friday of next week at 9am", BERLIN_EVE, (10, 30, 9, 0), None),
    ("range-3-4pm", "3-4pm", NY_EVE, (3, 7, 15, 0), 60),
    ("range-tomorrow-3-4pm-dst", "tomorrow 3-4pm", NY_EVE, (3, 8, 15, 0), 60),
    ("range-from-2-to-3:30", "from 2 to 3:30", SH_NOW, (3, 4, 14, 0), 90),
    ("range-8-11pm", "8 - 11pm", BERLIN_EVE, (10, 24, 20, 0), 180),
    ("range-8pm-11", "8pm - 11", BERLIN_EVE, (10, 24, 20, 0), 180),
    ("range-10-11-at-night", "10 - 11 at night", SH_NOW, (3, 4, 22, 0), 60),
    ("range-7-to-9am", "monday 7 to 9am", SH_NOW, (3, 9, 7, 0), 120),
    ("range-hhmm", "tomorrow 9:00-9:45", BERLIN_EVE, (10, 25, 9, 0), 45),
    ("zh-range-下午2点到3点", "下午2点到3点", SH_NOW, (3, 4, 14, 0), 60),
    ("zh-range-明天下午2点到3点-dst", "明天下午2点到3点", BERLIN_EVE, (10, 25, 14, 0), 60),
    ("zh-range-pm", "6点30pm-11点pm", SH_NOW, (3, 4, 18, 30), 270),
    ("zh-range-over-midnight", "晚上10点 - 2点", SH_NOW, (3, 4, 22, 0), 240),
    ("zh-range-same-date-twice", "明天10点到明天11点", SH_NOW, (3, 5, 10, 0), 60),
    ("11-at-night", "11 at night", NY_EVE, (3, 7, 23, 0), None),
    ("6-in-the-afternoon", "6 in the afternoon", BERLIN_EVE, (10, 24, 18, 0), None),
    ("at-7-in-the-evening", "tomorrow at 7 in the evening", NY_EVE, (3, 8, 19, 0), None),
    ("11-tonight", "11 tonight", SH_NOW, (3, 4, 23, 0), None),
    ("zh-今晚10时", "今晚10时", SH_NOW, (3, 4, 22, 0), None),
    ("zh-晚上十点", "晚上十点", SH_NOW, (3, 4, 22, 0), None),
    ("zh-3点半-is-24-hour", "明天3点半", SH_NOW, (3, 5, 3, 30), None),
    ("10-o'clock", "10 o'clock", BERLIN_EVE, (10, 24, 10, 0), None),
    ("tomorrow-10-o-clock-dst", "tomorrow at 10 o'clock", BERLIN_EVE, (10, 25, 10, 0), None),
    ("24-october-10-o-clock", "24 October 10 o clock", BERLIN_EVE, (10, 24, 10, 0), None),
    ("at-noon", "at noon", SH_NOW, (3, 4, 12, 0), None),
    ("midnight-is-the-coming-one", "at midnight", SH_NOW, (3, 5, 0, 0), None),
    ("midnight-on-a-date", "at midnight on 12th March", SH_NOW, (3, 12, 0, 0), None),
    ("the-24th", "the 24th 3pm", SH_NOW, (3, 24, 15, 0), None),
    ("the-3rd-is-next-month", "the 3rd at 9am", SH_NOW, (4, 3, 9, 0), None),
    ("oct-24", "Oct 24 3pm", SH_NOW, (10, 24, 15, 0), None),
    ("zh-2026年3月5日", "2026年3月5日 下午3点", SH_NOW, (3, 5, 15, 0), None),
    ("zh-下下周三", "下下周三 上午10点", SH_NOW, (3, 18, 10, 0), None),
    ("zh-明天上午9点-dst", "明天上午9点", NY_EVE, (3, 8, 9, 0), None),
]


@pytest.mark.parametrize(
    ("text", "now", "wall", "length"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_clock_forms_and_ranges(
    text: str, now: datetime, wall: tuple[int, int, int, int], length: int | None
) -> None:
    tz = now.tzinfo
    assert isinstance(tz, ZoneInfo)
    found = parse_when(text, now=now, tz=tz)
    assert found is not None
    assert found.start == datetime(now.year, *wall, tzinfo=tz)
    assert found.start.utcoffset() == tz.utcoffset(found.start.replace(tzinfo=None))
    assert found.duration == length
    assert found.phrase == text


OFFSETS = [
    ("15-minutes-from-now", "15 minutes from now", 15),
    ("in-15-minutes-from-now", "in 15 minutes from now", 15),
    ("in-1d-2hr-5min", "in 1d 2hr 5min", 1565),
    ("in-1d-2hr-and-5min", "in 1d, 2hr, and 5min", 1565),
    ("after-an-hour", "after an hour", 60),
    ("an-hour-later", "an hour later", 60),
    ("half-an-hour-from-now", "half an hour from now", 30),
    ("in-about-5-hours", "in about 5 hours", 300),
    ("zh-半小时后", "半小时后", 30),
    ("zh-5分钟过后", "5分钟过后", 5),
    ("zh-2小时之后", "2小时之后", 120),
]


@pytest.mark.parametrize("now", [NY_EVE, BERLIN_EVE, SH_NOW], ids=["ny-eve", "berlin-eve", "sh"])
@pytest.mark.parametrize(
    ("text", "minutes"), [pytest.param(*case[1:], id=case[0]) for case in OFFSETS]
)
def test_offsets_are_elapsed_time_across_dst(text: str, minutes: int, now: datetime) -> None:
    tz = now.tzinfo
    assert isinstance(tz, ZoneInfo)
    found = parse_when(text, now=now, tz=tz)
    assert found is not None
    assert found.start.astimezone(UTC) == now.astimezone(UTC) + timedelta(minutes=minutes)
    assert found.phrase == text


@pytest.mark.parametrize(
    ("text", "now", "minutes"),
    [
        pytest.param("tomorrow 1-3am", NY_EVE, 60, id="spring-forward-night-loses-an-hour"),
        pytest.param("tomorrow 1-4am", BERLIN_EVE, 240, id="fall-back-night-gains-an-hour"),
        pytest.param("tomorrow 9-11am", NY_EVE, 120, id="day-after-the-change-is-plain"),
    ],
)
def test_a_range_over_a_dst_change_lasts_its_elapsed_time(
    text: str, now: datetime, minutes: int
) -> None:
    tz = now.tzinfo
    assert isinstance(tz, ZoneInfo)
    found = parse_when(text, now=now, tz=tz)
    assert found is not None
    assert found.duration == minutes


def test_an_offset_over_the_spring_forward_moves_the_wall_clock_an_hour_more() -> None:
    found = parse_when("in 1d 2hr 5min", now=NY_EVE, tz=NEW_YORK)
    assert found is not None
    assert found.start.timetuple()[:5] == (2026, 3, 8, 13, 5)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Sprint 5-6 review", id="two-bare-numbers"),
        pytest.param("2-3", id="bare-range-without-clock"),
        pytest.param("2 at night", id="night-hour-that-is-not-night"),
        pytest.param("9 in the afternoon", id="afternoon-hour-that-is-not-afternoon"),
        pytest.param("next friday of next week 9am", id="next-of-next-week"),
        pytest.param("10pm today - 2am tomorrow", id="range-over-two-dates"),
        pytest.param("tomorrow 8am - 9pm tonight", id="range-longer-than-12h-and-two-dates"),
        pytest.param("the 31st 9am", id="day-the-next-month-lacks"),
    ],
)
def test_partly_understood_phrases_are_refused(text: str) -> None:
    now = datetime(2026, 4, 10, 10, 0, tzinfo=SHANGHAI)  # "the 31st" would be in April
    assert parse_when(text, now=now, tz=SHANGHAI) is None
