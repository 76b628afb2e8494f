"""`parse_when` and `parse_date`: a text's time phrase read in the user's zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import dateparser

from bot.timeparse._duration import _DURATION_SHAPE, parse_duration
from bot.timeparse._scan import _ATOM, _L, _R, _Atom, _atom, _reading, _runs
from bot.timeparse._words import _LANGUAGES, _S, _S1

_MAX_DATE_LOOKUPS: Final = 8
"""Dates one `parse_when` sends to dateparser (about a millisecond each): a command names one
or two; a text of hundreds of unreadable dates ("2/30 3pm …") would cost seconds."""


_UNIT = r"(?:days?|d|hours?|hrs?|h|minutes?|mins?|m)(?![a-z])"
_COMPOUND = rf"\d{{1,3}}{_S}{_UNIT}(?:[\s,]{{0,3}}(?:and{_S1})?\d{{1,3}}{_S}{_UNIT}){{0,3}}"
_FROM_NOW = rf"{_S1}(?:from{_S1}now|later)"
_OFFSET: Final = re.compile(
    rf"""{_L}(?:in|after){_S1}(?:(?:about|around){_S1})?
           (?:(?P<en>{_DURATION_SHAPE})|(?P<compound>{_COMPOUND}))(?:{_FROM_NOW})?{_R}
       | {_L}(?P<en_later>{_DURATION_SHAPE}){_FROM_NOW}{_R}
       | (?P<zh>{_DURATION_SHAPE}){_S}(?:以后|之后|过后|后)""",
    re.IGNORECASE | re.VERBOSE,
)
_COMPOUND_PART: Final = re.compile(rf"(\d{{1,3}}){_S}([dhm])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FoundTime:
    """A time phrase found in a text: its start (aware, in the user's zone) and where it was."""

    start: datetime
    span: tuple[int, int]
    phrase: str
    duration: int | None = None
    """Minutes, when the phrase is a range ("3-4pm", "下午2点到3点")."""


def _base(now: datetime, tz: ZoneInfo) -> datetime:
    """`now` as a naive wall time in `tz`: dateparser's RELATIVE_BASE."""
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(tz).replace(tzinfo=None)


def _resolve_date(date_text: str, base: datetime) -> date | None:
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": base,
        "DATE_ORDER": "MDY",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    parsed = dateparser.parse(date_text, languages=_LANGUAGES, settings=settings)
    if not isinstance(parsed, datetime):
        return None
    found = parsed.date()
    # dateparser's "future" compares with the base's time of day, so "3/9" said on 3/9 becomes
    # next year's 3/9. Today's date is not in the past; the caller rejects a past time instead.
    if found.year > base.year and not re.search(r"\d{4}", date_text):
        try:
            this_year = found.replace(year=base.year)
        except ValueError:  # 29 February
            return found
        if this_year == base.date():
            return this_year
    return found


def _localize(day: date, clock: time, tz: ZoneInfo) -> datetime | None:
    """The wall time `day` `clock` in `tz`; None if that instant is outside year 1 to 9999 in UTC
    ("9999-12-31 23:30" in Los Angeles, "0001-01-01 00:10" in Tokyo).

    fold=0 then a round trip through UTC: a wall time in the fall-back fold takes its first
    occurrence (the earlier instant); one in the spring-forward gap is read with the offset in
    force before the change, which moves it forward by the gap (02:30 -> 03:30 in New York).
    """
    wall = datetime.combine(day, clock, tzinfo=tz).replace(fold=0)
    try:
        return wall.astimezone(UTC).astimezone(tz)
    except OverflowError:
        return None


def _after(now: datetime, minutes: int, tz: ZoneInfo) -> datetime | None:
    """`minutes` after `now`, in `tz`; None past year 9999."""
    try:
        return (now.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(tz)
    except OverflowError:
        return None


def _found(
    text: str, start: int, end: int, when: datetime, duration: int | None = None
) -> FoundTime:
    phrase = text[start:end]
    start += len(phrase) - len(phrase.lstrip())
    end -= len(phrase) - len(phrase.rstrip())
    return FoundTime(start=when, span=(start, end), phrase=text[start:end], duration=duration)


def parse_when(text: str, *, now: datetime, tz: ZoneInfo) -> FoundTime | None:
    """Find the time phrase in `text` and read it in `tz`, relative to `now` (aware).

    A phrase is one clock time with at most one date next to it, or an offset:
    `today 14:30`, `3pm`, `at 9` (09:00), `noon`, `tomorrow 3pm`, `3pm tomorrow`, `tomorrow at 3pm`,
    `next mon 09:30`, `monday 10am`, `this fri 4pm`, `12/24 14:00` (month/day), `dec 24 2pm`,
    `24th of december 14:00`, `2027-01-15 09:00`, `in 2 days 10:00`, `tonight at 8` (20:00);
    offsets `in 2 hours`, `in 90 minutes`, `in an hour`; Chinese `明天下午3点`, `明天 15:00`,
    `后天上午10点`, `下周一 上午10点`, `今天晚上8点半`, `下午3点`, `周五 9点一刻`, `12月24日 14:00`,
    `2小时后`, `半小时后`; also `tmrw`. Also `friday of next week at 9am`, `the 24th 3pm`,
    `11 at night`, `6 in the afternoon`, `10 o'clock`, `24 October 10 o clock`, `今晚10时`;
    offsets `15 minutes from now`, `in 15 minutes from now`, `after an hour`, `an hour later`,
    `in 1d 2hr 5min`, `5分钟过后`; a lone `midnight` is the coming one.
    Ranges are a start and a `duration` in minutes: `3-4pm` (15:00, 60), `8 - 11pm`,
    `8pm - 11`, `from 2 to 3:30` (a bare start of 1 to 6 with no am/pm is an afternoon),
    `10:00-11:00`, `下午2点到3点`, `6点30pm-11点pm`, `晚上10点 - 2点` (past midnight); an end
    without am/pm takes the other end's; the duration is elapsed time (`_elapsed`). Refused: ranges over two dates or longer than 12 hours,
    two bare numbers ("Sprint 5-6"), and any phrase with a time word that does not read
    ("the 31st" in a month without one, "2 at night"). A date without a clock time ("tomorrow", "12/24") is not a
    time, and a date only joins a clock next to it: in "tomorrow standup 3pm" the phrase is "3pm".

    Dates: weekday names follow dateparser's PREFER_DATES_FROM=future ("monday" said on a Monday
    is next week's); a month/day already past this year is next year's; a bare clock time is
    TODAY even when it has passed ("3pm" at 4pm is 15:00 today), so the caller can reject it as
    being in the past and suggest "tomorrow 3pm" rather than silently moving it a day.
    Chinese days: 今天/明天/后天/大后天 count from today; 周X is the coming X (as "monday");
    这周X/本周X and 下周X are that weekday of this and of next week (weeks start on Monday).
    Chinese clocks: N点 alone is read on a 24-hour clock (3点 is 03:00); 下午/晚上/傍晚 add 12
    hours (下午3点 is 15:00), 中午1点 is 13:00, 凌晨12点 is 00:00.

    The wall time is computed naively and `tz` attached afterwards, so "tomorrow 9:00" on the
    eve of a DST change gets tomorrow's offset; see `_localize` for gaps and folds. Offsets
    ("in 2 hours") are elapsed time from `now`, not wall-clock arithmetic.

    Returns the first phrase with both a date and a clock, else the first clock-only phrase,
    else the first offset; None when there is none. Bounds that keep hostile text cheap: words
    of a phrase are at most three whitespace characters apart, a number has at most six digits,
    and only the first eight phrases with a date are looked up.
    """
    base = _base(now, tz)
    chosen: tuple[list[_Atom], datetime, int | None] | None = None
    lookups = 0
    for run in _runs(text, base.date()):
        while run and (run[-1].connector or run[-1].joiner):  # "3pm on" in "3pm on the roof"
            run = run[:-1]
        while run and run[0].joiner:  # "Retro - tomorrow 3pm"
            run = run[1:]
        reading = _reading(run)
        if reading is None:
            continue
        clock, date_text, length = reading
        if date_text is None:  # a bare clock time is today, even when already past
            if chosen is None and (when := _localize(base.date(), clock, tz)) is not None:
                chosen = (run, when, _elapsed(when, length, tz))
            continue
        if lookups == _MAX_DATE_LOOKUPS:
            continue
        lookups += 1
        day = _resolve_date(date_text, base)
        if day is not None and (when := _localize(day, clock, tz)) is not None:
            return _found(text, run[0].start, run[-1].end, when, _elapsed(when, length, tz))
    if chosen is not None:
        run, when, length = chosen
        return _found(text, run[0].start, run[-1].end, when, length)
    for match in _OFFSET.finditer(text):
        minutes = _offset_minutes(match)
        if minutes and (start := _after(now, minutes, tz)) is not None:
            return _found(text, match.start(), match.end(), start)
    return None


def _elapsed(start: datetime, wall_minutes: int | None, tz: ZoneInfo) -> int | None:
    """A range's length as elapsed minutes: its end is a wall time too, so "1-3am" on the night
    clocks spring forward lasts 60 minutes, not 120. None if nothing of it is left."""
    if wall_minutes is None:
        return None
    end_wall = start.replace(tzinfo=None) + timedelta(minutes=wall_minutes)
    end = _localize(end_wall.date(), end_wall.time(), tz)
    if end is None:
        return None
    minutes = round((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 60)
    return minutes if minutes > 0 else None


def _offset_minutes(match: re.Match[str]) -> int | None:
    if match["compound"]:
        factor = {"d": 1440, "h": 60, "m": 1}
        parts = _COMPOUND_PART.findall(match["compound"])
        return sum(int(number) * factor[unit.lower()] for number, unit in parts)
    return parse_duration(match["en"] or match["en_later"] or match["zh"])


def parse_date(text: str, *, now: datetime, tz: ZoneInfo) -> date | None:
    """`text` as a whole read as one date ("12/31", "dec 31", "2027-01-15", "friday", "12月31日"),
    with the same rules as the date part of `parse_when`; None if it is anything else.
    """
    base = _base(now, tz)
    stripped = text.strip()
    match = _ATOM.fullmatch(stripped)
    atom = _atom(match, base.date()) if match else None
    if atom is None or atom.date_text is None:
        return None
    return _resolve_date(atom.date_text, base)


@dataclass(frozen=True, slots=True)
class FoundDates:
    """A phrase that names dates but no single time `parse_when` takes: a date alone ("next
    wednesday", "12/24") or two dates together ("friday 3 march 10am"), with its clock if any.
    `days` are the distinct dates meant, in the order written: one when they agree."""

    days: tuple[date, ...]
    clock: time | None
    span: tuple[int, int]
    phrase: str


def find_dates(text: str, *, now: datetime, tz: ZoneInfo) -> FoundDates | None:
    """The first phrase of `text` with one or two dates and at most one clock time that
    `parse_when` does not read (call it when that returned None); None if there is none."""
    base = _base(now, tz)
    for lookups, run in enumerate(_runs(text, base.date())):
        if lookups == _MAX_DATE_LOOKUPS // 2:
            return None
        while run and (
            run[-1].connector or run[-1].joiner or (run[-1].clock is None and not run[-1].date_text)
        ):
            run = run[:-1]
        while run and (run[0].joiner or run[0].connector):
            run = run[1:]
        texts = list(dict.fromkeys(a.date_text for a in run if a.date_text is not None))
        clocks = [a.clock for a in run if a.clock is not None and not a.bare]
        if (
            not 1 <= len(texts) <= 2
            or len(clocks) > 1
            or any(a.unreadable or a.joiner for a in run)
        ):
            continue
        days = [day for date_text in texts if (day := _resolve_date(date_text, base)) is not None]
        if len(days) != len(texts):
            continue
        found = _found(text, run[0].start, run[-1].end, now)
        return FoundDates(
            tuple(dict.fromkeys(days)), clocks[0] if clocks else None, found.span, found.phrase
        )
    return None


def wall_time(day: date, clock: time, tz: ZoneInfo) -> datetime | None:
    """`day` at `clock` in `tz` (a gap moves it forward, a fold takes the first); None out of range."""
    return _localize(day, clock, tz)
