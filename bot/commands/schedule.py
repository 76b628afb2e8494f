"""The schedule form of /meet: `<topic> <when> [for <dur>] [with @a @b …] [every …]`, read
into a Schedule (or NoTimeFound) and checked against bot/rules.py.

Pure; a part of the /meet grammar (bot/commands/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import Final
from zoneinfo import ZoneInfo

from bot.commands.model import (
    Ambiguous,
    CommandError,
    InvalidCommandError,
    NoTimeFound,
    Recurrence,
    Schedule,
    fail,
)
from bot.commands.text import SENTINEL, read_markup, shown
from bot.rules import (
    DEFAULT_DURATION_MINUTES,
    MAX_DURATION_MINUTES,
    MAX_INVITEES,
    MAX_TOPIC_LENGTH,
    MIN_DURATION_MINUTES,
    RECURRENCE_HORIZON,
    WEEKDAY_NAMES,
    ErrorKind,
    Frequency,
    duration_problem,
    invitees_problem,
    start_problem,
    topic_problem,
)
from bot.timeparse import (
    WEEKDAYS,
    ZH_WEEKDAYS,
    FoundDates,
    find_dates,
    parse_date,
    parse_duration,
    parse_when,
    wall_time,
)

__all__ = [
    "DEFAULT_TOPIC",
    "EXAMPLE_SCHEDULE",
    "check_schedule",
    "check_topic",
    "parse_schedule",
]

DEFAULT_TOPIC: Final = "Meeting"
EXAMPLE_SCHEDULE: Final = "/meet Standup tomorrow 9:30 for 15m"

# --- clauses of the schedule form --------------------------------------------------------------
# The text is squeezed (`parse_command`): whitespace is one space, so `\s?` is enough between words.

_MENTION = "\ue000\\d+\ue001"
_WITH: Final = re.compile(
    rf"(?<![A-Za-z0-9])(?:with|invite|inviting|邀请)\s?(?:{_MENTION})"
    rf"(?:[\s,\uff0c\u3001]{{0,3}}(?:(?:and|&|和)\s?)?{_MENTION})*",
    re.IGNORECASE,
)
_WEEKDAY_NAME = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_WEEKDAY_WORD = rf"(?:{_WEEKDAY_NAME})s?\.?"
_ZH_DAY_CHARS = "".join(ZH_WEEKDAYS)
_EVERY: Final = re.compile(
    rf"""
      (?<![A-Za-z0-9])every\s
      (?: (?P<day>day)
        | (?P<weekday>weekdays?|work\s?days?|business\s days?)
        | (?P<week>week)
        | (?P<month>month)
        | (?P<days>{_WEEKDAY_WORD}(?:\s?(?:,|and|&|/|\+)\s?{_WEEKDAY_WORD})*)
        | (?P<unsupported>other\s\w{{1,20}}|\d{{1,6}}\s?\w{{1,20}})
      )(?![A-Za-z0-9])
    | 每个?(?: (?P<zh_day>[天日])
            | (?P<zh_weekday>工作日)
            | (?:周|星期|礼拜)(?P<zh_days>[{_ZH_DAY_CHARS}](?:[\u3001,\uff0c和及与]?[{_ZH_DAY_CHARS}])*)
            | (?P<zh_week>周|星期|礼拜)
            | (?P<zh_month>月) )
    """,
    re.IGNORECASE | re.VERBOSE,
)
_UNTIL: Final = re.compile(r"\s?(?:until|till)\s", re.IGNORECASE)
_FOR: Final = re.compile(r"(?<![A-Za-z0-9])for\s|时长\s?|持续\s?", re.IGNORECASE)
_DURATION_BOUNDARY: Final = re.compile(r"[A-Za-z0-9.]")
_MAX_DURATION_TEXT: Final = 40
# Left at the ends of a topic once the time and the clauses are cut out.
_PUNCTUATION = r"\s,;:\-\u2013\u2014\uff0c\u3002\u3001"
# One dangling piece at the very end; `_trim_end` takes them off one at a time.
_DANGLING_PIECE: Final = re.compile(
    rf"(?:[{_PUNCTUATION}]|(?<=\s)(?:at|on|from|starting|by|for|with|and|until))\Z", re.IGNORECASE
)
_LONGEST_PIECE: Final = len("starting")
_DANGLING_START: Final = re.compile(rf"^[{_PUNCTUATION}]+")
# 在/于 ("at") right before a Chinese time phrase: 周会在明天下午3点.
_ZH_CONNECTOR: Final = re.compile(r"[在于]\s?\Z")
_CJK: Final = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def _join(left: str, right: str) -> str:
    """Two pieces of text around a hole: one space between them unless Chinese text meets there."""
    left, right = left.rstrip(), right.lstrip()
    joiner = "" if (left and _CJK.match(left[-1])) or (right and _CJK.match(right[0])) else " "
    return left + joiner + right if left and right else left or right


def _cut(text: str, start: int, end: int) -> str:
    return _join(text[:start], text[end:])


def _trim_end(text: str) -> str:
    """`text` without the dangling pieces at its end. Each search looks at the last few characters
    only: one pattern for the whole run, tried from every position, would take quadratic time."""
    end = len(text)
    while piece := _DANGLING_PIECE.search(text, max(0, end - _LONGEST_PIECE), end):
        end = piece.start()
    return text[:end]


def _topic_of(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    return _DANGLING_START.sub("", _trim_end(text))


def _take_invitees(text: str, mentions: list[tuple[str, str]]) -> tuple[str, tuple[str, ...]]:
    invitees: list[str] = []
    while clause := _WITH.search(text):
        for index in SENTINEL.findall(clause[0]):
            if (user_id := mentions[int(index)][0]) not in invitees:
                invitees.append(user_id)
        text = _cut(text, clause.start(), clause.end())
    return text, tuple(invitees)


def _weekday_list(text: str) -> tuple[int, ...]:
    names = re.findall(rf"(?<![A-Za-z])({_WEEKDAY_NAME})s?\.?(?![A-Za-z])", text, re.IGNORECASE)
    return tuple(sorted({WEEKDAYS[name.lower()] for name in names}))


@dataclass(frozen=True, slots=True)
class _Repeat:
    """A recurrence as written, before the start's weekday is known."""

    frequency: Frequency
    weekdays: tuple[int, ...]
    until: date | None


def _take_recurrence(text: str, *, now: datetime, tz: ZoneInfo) -> tuple[str, _Repeat | None]:
    every = _EVERY.search(text)
    if every is None:
        return text, None
    if every["unsupported"]:
        raise fail(
            ErrorKind.RECURRENCE_UNSUPPORTED,
            f"I can't repeat a meeting “{every[0]}”. I understand every day, weekday, week, "
            "month, or named days (every mon and wed).",
            "/meet Standup monday 9:30 every weekday",
        )
    weekdays: tuple[int, ...] = ()
    if every["day"] or every["zh_day"]:
        frequency = Frequency.DAILY
    elif every["weekday"] or every["zh_weekday"]:
        frequency, weekdays = Frequency.WEEKDAYS, (0, 1, 2, 3, 4)
    elif every["month"] or every["zh_month"]:
        frequency = Frequency.MONTHLY
    else:
        frequency = Frequency.WEEKLY
        if every["days"]:
            weekdays = _weekday_list(every["days"])
        elif every["zh_days"]:
            weekdays = tuple(sorted({ZH_WEEKDAYS[c] for c in every["zh_days"] if c in ZH_WEEKDAYS}))
    end, until = every.end(), None
    if until_word := _UNTIL.match(text, end):
        until, end = _until(text, until_word.end(), now=now, tz=tz)
    return _cut(text, every.start(), end), _Repeat(frequency, weekdays, until)


def _until(text: str, position: int, *, now: datetime, tz: ZoneInfo) -> tuple[date, int]:
    """The date after "until" (the longest of its next three words that reads as one)."""
    words = list(islice(re.finditer(r"\S+", text[position:]), 3))
    for word in reversed(words):
        end = position + word.end()
        if (day := parse_date(text[position:end].rstrip(",."), now=now, tz=tz)) is not None:
            return day, end
    written = words[0][0] if words else ""
    raise fail(
        ErrorKind.UNTIL_UNREADABLE,
        f"I couldn't read the end date “{written}” after “until”.",
        _until_example(now.astimezone(tz).date()),
    )


def _until_example(today: date) -> str:
    end = today + timedelta(weeks=12)
    return f"/meet Standup monday 9:30 every week until {end.month}/{end.day}"


def _take_duration(text: str) -> tuple[str, int | None]:
    for keyword in _FOR.finditer(text):
        after = text[keyword.end() :]
        for length in range(min(len(after), _MAX_DURATION_TEXT), 0, -1):
            if length < len(after) and _DURATION_BOUNDARY.match(after[length]):
                continue  # "1h3" inside "1h30m"
            if (minutes := parse_duration(after[:length])) is not None:
                return _cut(text, keyword.start(), keyword.end() + length), minutes
        if not keyword[0].lower().startswith("for") or after[:1].isdigit() or after[:1] == ".":
            written = after.split()[0] if after.split() else ""
            raise fail(
                ErrorKind.DURATION_UNREADABLE,
                f"I couldn't read the duration “{written}”. Write minutes or hours: 45m, 1h, "
                "1h30m, 90 minutes.",
                EXAMPLE_SCHEDULE,
            )
    return text, None  # "for" that starts no duration belongs to the topic: "Plan for Q3"


# --- the form, checked against bot/rules.py ----------------------------------------------------


def check_topic(topic: str) -> str:
    """`topic`, or the error that it is too long (bot.rules.topic_problem)."""
    if topic_problem(topic) is not None:
        raise fail(
            ErrorKind.TOPIC_TOO_LONG,
            f"The topic is {len(topic)} characters long; the limit is {MAX_TOPIC_LENGTH}.",
            "/meet Quarterly planning tomorrow 3pm for 1h",
        )
    return topic


def parse_schedule(
    raw: str, *, now: datetime, tz: ZoneInfo, default_duration: int
) -> Schedule | NoTimeFound | Ambiguous:
    text, mentions = read_markup(raw)
    text, invitees = _take_invitees(text, mentions)
    if invitees_problem(len(invitees)) is not None:
        raise fail(
            ErrorKind.TOO_MANY_INVITEES,
            f"You invited {len(invitees)} people; a meeting made from Slack can invite at most "
            f"{MAX_INVITEES}. Invite those who must be there and share the meeting's link with the "
            "rest.",
            "/meet Planning tomorrow 3pm with @alice @bob",
        )
    text = shown(text, mentions)
    text, repeat = _take_recurrence(text, now=now, tz=tz)
    text, duration = _take_duration(text)
    found = parse_when(text, now=now, tz=tz)
    dates = find_dates(text, now=now, tz=tz) if found is None else None
    if found is None and dates is None:
        return NoTimeFound(topic=check_topic(_topic_of(text) or DEFAULT_TOPIC))
    phrase, span = (found.phrase, found.span) if found else (dates.phrase, dates.span)  # type: ignore[union-attr]
    rest = _join(_ZH_CONNECTOR.sub("", text[: span[0]]), text[span[1] :])
    topic = check_topic(_topic_of(rest) or DEFAULT_TOPIC)
    if duration is None:  # an explicit "for 45m" wins over a range's length ("3-4pm")
        duration = default_duration if found is None or found.duration is None else found.duration
    request = _Request(topic, tz, duration, invitees, repeat, phrase)
    if found is None:
        return _ask_dates(request, dates, now=now)  # type: ignore[arg-type]
    today = now.astimezone(tz).date()
    if start_problem(found.start, now) is ErrorKind.PAST_TIME and found.start.date() == today:
        return _ask_past(request, found.start, now=now)
    if leftover := _LEFTOVER.search(topic):
        return _ask(
            request,
            f"I read “{phrase}” as {_shown(found.start)}, but “{leftover[0]}” is left in the "
            "topic and may be a time too.",
            (found.start,),
            now=now,
        )
    return _checked(request.at(found.start), now=now, phrase=phrase)


# --- Asking instead of guessing ------------------------------------------------------------------
# A phrase read in part or in two ways books nothing: the user is offered the likely readings.

# Time words left in a topic once the phrase is cut out: "Sync tomorrow standup 3pm". Parts of
# the day stay ("Morning standup 9am").
_LEFTOVER: Final = re.compile(
    rf"(?<![A-Za-z0-9])(?:today|tonight|tomorrow|tmrw|tmr|yesterday|noon|midnight"
    rf"|(?:next|this)\s(?:week|month)|(?:{_WEEKDAY_NAME})s?"
    r"|\d{1,2}(?::\d{2})?\s?[ap]\.?m\.?|\d{1,2}:\d{2})(?![A-Za-z0-9])"
    r"|今天|今晚|明天|明晚|后天|[上下]午|晚上|(?:下|这|本)?(?:周|星期|礼拜)[一二三四五六日天]|\d{1,2}\s?[点點时]",
    re.IGNORECASE,
)
_USUAL_HOURS: Final = (time(9), time(14))
"""The readings offered for a date said without a time: 9:00 and 14:00 on it."""
_NO_MERIDIEM: Final = re.compile(r"[^:\d]*(?<!\d)([1-9]|1[01])(?::\d{2})?[^:\d]*")
_MERIDIEM_WORDS: Final = re.compile(r"[ap]\.?m|noon|night|morning|午|晚|早|凌晨", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Request:
    """Everything typed but the start."""

    topic: str
    tz: ZoneInfo
    duration: int
    invitees: tuple[str, ...]
    repeat: _Repeat | None
    phrase: str

    def at(self, start: datetime) -> Schedule:
        return Schedule(
            topic=self.topic,
            start=start.astimezone(UTC),
            tz_name=self.tz.key,
            duration_minutes=self.duration,
            invitees=self.invitees,
            recurrence=None if self.repeat is None else _recurrence(self.repeat, start),
        )


def _shown(start: datetime) -> str:
    zone = start.tzinfo.key if isinstance(start.tzinfo, ZoneInfo) else "UTC"
    return f"{start:%a %b %d %H:%M} ({zone})"


def _ask(
    request: _Request, problem: str, starts: tuple[datetime, ...], *, now: datetime
) -> Ambiguous:
    """The readings among `starts` that are valid now, and the form prefilled with the first
    of `starts` (the form shows it to be changed, so it may be one that is not valid)."""
    readings: list[Schedule] = []
    for start in starts:
        try:
            reading = _checked(request.at(start), now=now, phrase=request.phrase)
        except InvalidCommandError:
            continue
        if reading not in readings:
            readings.append(reading)
    form = Schedule(
        topic=request.topic,
        start=starts[0].astimezone(UTC),
        tz_name=request.tz.key,
        duration_minutes=request.duration,
        invitees=request.invitees,
    )
    return Ambiguous(problem=problem, readings=tuple(readings), form=form)


def _ask_past(request: _Request, start: datetime, *, now: datetime) -> Ambiguous:
    """A time already passed today: tomorrow at that time, or (a bare 1 to 11 with no am/pm) this
    evening at that hour."""
    day, clock, tz = start.date(), start.timetz().replace(tzinfo=None), request.tz
    starts = [wall_time(day + timedelta(days=1), clock, tz)]
    if _NO_MERIDIEM.fullmatch(request.phrase) and not _MERIDIEM_WORDS.search(request.phrase):
        starts.insert(0, wall_time(day, clock.replace(hour=clock.hour + 12), tz))
    return _ask(
        request,
        f"“{request.phrase}” is {_shown(start)}, which has already passed.",
        tuple(s for s in starts if s is not None and s > now) or (start,),
        now=now,
    )


def _ask_dates(
    request: _Request, dates: FoundDates, *, now: datetime
) -> Ambiguous | Schedule | NoTimeFound:
    """A date without a time (offer usual hours and the form), or two dates that disagree
    ("friday 3 march" when 3 March is a Tuesday: offer both); two that agree are just a date."""
    tz = request.tz
    clocks = _USUAL_HOURS if dates.clock is None else (dates.clock,)
    starts = tuple(s for day in dates.days for c in clocks if (s := wall_time(day, c, tz)))
    if not starts:  # only past year 9999
        return NoTimeFound(topic=request.topic)
    if len(dates.days) == 1 and dates.clock is not None:
        return _checked(request.at(starts[0]), now=now, phrase=request.phrase)
    shown = " and ".join(f"{day:%a %b %d}" for day in dates.days)
    if len(dates.days) > 1:
        problem = f"“{dates.phrase}” names two different days: {shown}."
    else:
        problem = f"“{dates.phrase}” is {shown} ({tz.key}), but at what time?"
    return _ask(request, problem, starts, now=now)


# --- The checks of bot/rules.py, worded for the command --------------------------------------------


def _checked(schedule: Schedule, *, now: datetime, phrase: str) -> Schedule:
    """`schedule`, or the error of the first rule it breaks (`phrase`: how its time was written)."""
    tz = ZoneInfo(schedule.tz_name)
    start, topic, duration = (
        schedule.start.astimezone(tz),
        schedule.topic,
        schedule.duration_minutes,
    )
    check_topic(topic)
    match start_problem(start, now):
        case ErrorKind.PAST_TIME:
            raise fail(
                ErrorKind.PAST_TIME,
                f"“{phrase}” is {_shown(start)}, which has already passed.",
                f"/meet {topic} tomorrow {start:%H:%M}"
                + ("" if duration == DEFAULT_DURATION_MINUTES else f" for {duration}m"),
            )
        case ErrorKind.TOO_FAR_AHEAD:
            raise fail(
                ErrorKind.TOO_FAR_AHEAD,
                f"“{phrase}” is {start:%Y-%m-%d}, more than a year ahead.",
                f"/meet {topic} next mon 9:30",
            )
    if duration_problem(duration) is not None:
        raise fail(
            ErrorKind.DURATION_OUT_OF_RANGE,
            f"A meeting lasts from {MIN_DURATION_MINUTES} minutes to "
            f"{MAX_DURATION_MINUTES // 60} hours; {duration} minutes is outside that.",
            f"/meet {topic} tomorrow {start:%H:%M} for 30m",
        )
    if invitees_problem(len(schedule.invitees)) is not None:
        raise fail(
            ErrorKind.TOO_MANY_INVITEES,
            f"A meeting made from Slack can invite at most {MAX_INVITEES} people.",
            "/meet Planning tomorrow 3pm with @alice @bob",
        )
    if schedule.recurrence is not None:
        _check_recurrence(schedule.recurrence, start, topic, phrase)
    return schedule


def check_schedule(schedule: Schedule, *, now: datetime) -> CommandError | None:
    """What is wrong with a request that came back from the user (a reading's button), checked
    again with every rule of the command; None if it may be booked now."""
    try:
        _checked(schedule, now=now, phrase=f"{schedule.start:%Y-%m-%d %H:%M} UTC")
    except InvalidCommandError as invalid:
        return invalid.error
    return None


def _recurrence(repeat: _Repeat, start: datetime) -> Recurrence:
    weekdays = repeat.weekdays
    if repeat.frequency is Frequency.WEEKLY and not weekdays:
        weekdays = (start.weekday(),)  # "every week": the start's weekday, in the user's zone
    return Recurrence(frequency=repeat.frequency, weekdays=weekdays, until=repeat.until)


def _check_recurrence(repeat: Recurrence, start: datetime, topic: str, phrase: str) -> None:
    weekdays = repeat.weekdays
    if weekdays and start.weekday() not in weekdays:
        first = WEEKDAY_NAMES[weekdays[0]]
        if repeat.frequency is Frequency.WEEKDAYS:
            days, every = "weekdays", "weekday"
        else:
            days = " and ".join(WEEKDAY_NAMES[day] for day in weekdays)
            every = " and ".join(WEEKDAY_NAMES[day][:3] for day in weekdays)
        raise fail(
            ErrorKind.RECURRENCE_MISMATCH,
            f"“{phrase}” is a {start:%A}, but the meeting repeats on {days}.",
            f"/meet {topic} {first[:3]} {start:%H:%M} every {every}",
        )
    if repeat.until is not None and repeat.until > start.date() + RECURRENCE_HORIZON:
        raise fail(
            ErrorKind.UNTIL_TOO_LATE,
            f"The repeats end on {repeat.until:%Y-%m-%d}; a series can last at most a year "
            f"(until {start.date() + RECURRENCE_HORIZON:%Y-%m-%d}).",
            _until_example(start.date()),
        )
    if repeat.until is not None and repeat.until < start.date():
        raise fail(
            ErrorKind.UNTIL_BEFORE_START,
            f"The repeats end on {repeat.until:%Y-%m-%d}, before the first meeting "
            f"({start:%Y-%m-%d}).",
            _until_example(start.date()),
        )
