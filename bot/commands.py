"""The /meet grammar: Slack's command text -> a typed, validated Command or a CommandError.

Pure: `now` and the user's ZoneInfo are arguments. Slack's `&amp;`/`&lt;`/`&gt;` are decoded here,
once; rendering escapes again. Every repeat in the patterns is bounded or anchored, and the text
is capped at MAX_COMMAND_LENGTH, so a parse costs at most a few milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from itertools import islice
from types import MappingProxyType
from typing import Final, TypeAlias
from zoneinfo import ZoneInfo

from bot.timeparse import WEEKDAYS, ZH_WEEKDAYS, parse_date, parse_duration, parse_when

__all__ = [
    "ADMIN_VERBS",
    "DEFAULT_TOPIC",
    "MAX_COMMAND_LENGTH",
    "MAX_DURATION_MINUTES",
    "MAX_INVITEES",
    "MAX_MAPPINGS_PAGE",
    "MAX_MEETING_ID_DIGITS",
    "MAX_REMINDERS",
    "MAX_REMINDER_MINUTES",
    "MAX_TOPIC_LENGTH",
    "MIN_DURATION_MINUTES",
    "RECURRENCE_HORIZON",
    "AdminChannel",
    "AdminCheck",
    "AdminMap",
    "AdminMappingMode",
    "AdminMappings",
    "AdminReminders",
    "AdminSetup",
    "AdminUnmap",
    "Cancel",
    "Command",
    "CommandError",
    "ErrorKind",
    "Frequency",
    "Help",
    "ListMeetings",
    "MappingMode",
    "NoTimeFound",
    "OpenScheduleModal",
    "Recurrence",
    "Schedule",
    "StartNow",
    "WhoAmI",
    "parse_command",
]

DEFAULT_TOPIC: Final = "Meeting"
MAX_COMMAND_LENGTH: Final = 1000
"""Characters of command text, counted as the user wrote them (a mention as "@name")."""
MAX_TOPIC_LENGTH: Final = 128
MIN_DURATION_MINUTES: Final = 15
MAX_DURATION_MINUTES: Final = 1440
MAX_REMINDER_MINUTES: Final = 1440
MAX_REMINDERS: Final = 5
"""Reminders per meeting occurrence: each is a channel message."""
RECURRENCE_HORIZON: Final = timedelta(days=364)
"""A series ends at most this long after its first meeting (the vendor's limit is a year)."""
MAX_INVITEES: Final = 50
"""People one meeting made from Slack invites (each gets a DM): the command and the form."""
MAX_MAPPINGS_PAGE: Final = 10_000
MAX_MEETING_ID_DIGITS: Final = 20
"""Conference IDs are 9 to 11 digits; the bound only keeps absurd input out of the lookup."""
MAX_DAYS_AHEAD: Final = 365
PAST_SLACK: Final = timedelta(minutes=1)
ADMIN_VERBS: Final = (
    "setup",
    "map",
    "unmap",
    "mappings",
    "mapping",
    "reminders",
    "channel",
    "check",
)

EXAMPLE_SCHEDULE: Final = "/meet Standup tomorrow 9:30 for 15m"
_DAY_NAMES: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKDAYS = "weekdays"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class MappingMode(StrEnum):
    """How a workspace turns a Slack user into a third-party user ID (design.md, User mapping)."""

    EMAIL = "email"
    SLACK = "slack"
    EXPLICIT = "explicit"


class ErrorKind(StrEnum):
    COMMAND_TOO_LONG = "command_too_long"
    PAST_TIME = "past_time"
    TOO_FAR_AHEAD = "too_far_ahead"
    DURATION_OUT_OF_RANGE = "duration_out_of_range"
    DURATION_UNREADABLE = "duration_unreadable"
    TOPIC_TOO_LONG = "topic_too_long"
    TOO_MANY_INVITEES = "too_many_invitees"
    RECURRENCE_UNSUPPORTED = "recurrence_unsupported"
    RECURRENCE_MISMATCH = "recurrence_mismatch"
    UNTIL_UNREADABLE = "until_unreadable"
    UNTIL_BEFORE_START = "until_before_start"
    UNTIL_TOO_LATE = "until_too_late"
    CANCEL_ID_MISSING = "cancel_id_missing"
    CANCEL_ID_INVALID = "cancel_id_invalid"
    ADMIN_UNKNOWN_VERB = "admin_unknown_verb"
    ADMIN_USER_MISSING = "admin_user_missing"
    ADMIN_ID_MISSING = "admin_id_missing"
    ADMIN_PAGE_INVALID = "admin_page_invalid"
    ADMIN_MODE_INVALID = "admin_mode_invalid"
    ADMIN_REMINDERS_INVALID = "admin_reminders_invalid"
    ADMIN_CHANNEL_MISSING = "admin_channel_missing"


@dataclass(frozen=True, slots=True)
class Recurrence:
    """How a scheduled meeting repeats. `weekdays` are 0=Monday … 6=Sunday in the user's zone:
    all five for WEEKDAYS, the chosen days for WEEKLY, empty for DAILY and MONTHLY.
    """

    frequency: Frequency
    weekdays: tuple[int, ...] = ()
    until: date | None = None


@dataclass(frozen=True, slots=True)
class StartNow:
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    topic: str
    start: datetime  # aware, UTC
    tz_name: str
    duration_minutes: int
    invitees: tuple[str, ...] = ()  # Slack user IDs, deduplicated, in the order written
    recurrence: Recurrence | None = None


@dataclass(frozen=True, slots=True)
class NoTimeFound:
    """Text that names no time: offer "Start now" and an example; create nothing."""

    topic: str


@dataclass(frozen=True, slots=True)
class OpenScheduleModal:
    pass


@dataclass(frozen=True, slots=True)
class ListMeetings:
    pass


@dataclass(frozen=True, slots=True)
class Cancel:
    meeting_id: str  # digits only


@dataclass(frozen=True, slots=True)
class WhoAmI:
    pass


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class AdminSetup:
    pass


@dataclass(frozen=True, slots=True)
class AdminMap:
    user_id: str
    third_party_id: str


@dataclass(frozen=True, slots=True)
class AdminUnmap:
    user_id: str


@dataclass(frozen=True, slots=True)
class AdminMappings:
    page: int = 1


@dataclass(frozen=True, slots=True)
class AdminMappingMode:
    mode: MappingMode


@dataclass(frozen=True, slots=True)
class AdminReminders:
    minutes: tuple[int, ...]  # unique, descending


@dataclass(frozen=True, slots=True)
class AdminChannel:
    channel_id: str


@dataclass(frozen=True, slots=True)
class AdminCheck:
    pass


Command: TypeAlias = (
    StartNow
    | Schedule
    | NoTimeFound
    | OpenScheduleModal
    | ListMeetings
    | Cancel
    | WhoAmI
    | Help
    | AdminSetup
    | AdminMap
    | AdminUnmap
    | AdminMappings
    | AdminMappingMode
    | AdminReminders
    | AdminChannel
    | AdminCheck
)


@dataclass(frozen=True, slots=True)
class CommandError:
    """What was wrong, in plain words, and a command that would work."""

    problem: str
    example: str
    kind: ErrorKind


class _InvalidCommandError(Exception):
    """Carries a CommandError out of a helper; never escapes `parse_command`."""

    def __init__(self, error: CommandError) -> None:
        super().__init__(error.problem)
        self.error = error


def _fail(kind: ErrorKind, problem: str, example: str) -> _InvalidCommandError:
    return _InvalidCommandError(CommandError(problem=problem, example=example, kind=kind))


# --- Slack's escaping --------------------------------------------------------------------------
# With should_escape: true Slack sends a user's own &, <, > as entities, so every literal < … >
# left in the text is Slack markup: <@U1|name>, <#C1|name>, <!here>, <https://…|label>.

_MARKUP: Final = re.compile(r"<([^<>]*)>")
_ENTITY: Final = re.compile(r"&(amp|lt|gt);")
_ENTITIES: Final = {"amp": "&", "lt": "<", "gt": ">"}
_USER_MARKUP: Final = re.compile(r"@([UW][A-Z0-9]+)(?:\|(.*))?", re.DOTALL)
_CHANNEL_MARKUP: Final = re.compile(r"#([CG][A-Z0-9]+)(?:\|(.*))?", re.DOTALL)
_BARE_USER: Final = re.compile(r"[UW][A-Z0-9]{2,}")
_BARE_CHANNEL: Final = re.compile(r"[CG][A-Z0-9]{2,}")
# A user mention inside decoded text: private-use brackets around its index in the mention list.
_SENTINEL: Final = re.compile("\ue000(\\d+)\ue001")
_PRIVATE: Final = re.compile("[\ue000\ue001]")
# Newlines and runs of spaces carry no meaning in a command; one space keeps the patterns short.
# Markup survives: only whitespace changes, never a < or a >.
_WHITESPACE: Final = re.compile(r"\s+")


def _decode(text: str) -> str:
    """The three entities Slack escapes, decoded once: "&amp;lt;" stays "&lt;"."""
    return _ENTITY.sub(lambda m: _ENTITIES[m[1]], text)


def _markup_text(inner: str) -> str:
    """What a user sees for one piece of markup (users are handled by the caller)."""
    if channel := _CHANNEL_MARKUP.fullmatch(inner):
        return "#" + _decode(channel[2] or channel[1])
    target, _, label = inner.partition("|")
    if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^…|fallback>
        return _decode(label) if label else "@" + target[1:].split("^")[0]
    return _decode(label or target.removeprefix("mailto:"))


def _read(raw: str) -> tuple[str, list[tuple[str, str]]]:
    """Decoded text with each user mention replaced by a sentinel, and the mentions (id, shown)."""
    mentions: list[tuple[str, str]] = []
    parts: list[str] = []
    position = 0
    for markup in _MARKUP.finditer(raw):
        parts.append(_decode(raw[position : markup.start()]))
        if user := _USER_MARKUP.fullmatch(markup[1]):
            parts.append(f"\ue000{len(mentions)}\ue001")
            mentions.append((user[1], "@" + _decode(user[2] or user[1])))
        else:
            parts.append(_markup_text(markup[1]))
        position = markup.end()
    parts.append(_decode(raw[position:]))
    return "".join(parts), mentions


def _shown(text: str, mentions: list[tuple[str, str]]) -> str:
    return _SENTINEL.sub(lambda m: mentions[int(m[1])][1], text)


def _plain(raw: str) -> str:
    """The command text as the user meant it: decoded, mentions as @name."""
    return _shown(*_read(raw))


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
        for index in _SENTINEL.findall(clause[0]):
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
        raise _fail(
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
    raise _fail(
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
            raise _fail(
                ErrorKind.DURATION_UNREADABLE,
                f"I couldn't read the duration “{written}”. Write minutes or hours: 45m, 1h, "
                "1h30m, 90 minutes.",
                EXAMPLE_SCHEDULE,
            )
    return text, None  # "for" that starts no duration belongs to the topic: "Plan for Q3"


# --- the forms ---------------------------------------------------------------------------------


def _check_topic(topic: str) -> str:
    if len(topic) > MAX_TOPIC_LENGTH:
        raise _fail(
            ErrorKind.TOPIC_TOO_LONG,
            f"The topic is {len(topic)} characters long; the limit is {MAX_TOPIC_LENGTH}.",
            "/meet Quarterly planning tomorrow 3pm for 1h",
        )
    return topic


def _schedule(
    raw: str, *, now: datetime, tz: ZoneInfo, default_duration: int
) -> Schedule | NoTimeFound:
    text, mentions = _read(raw)
    text, invitees = _take_invitees(text, mentions)
    if len(invitees) > MAX_INVITEES:
        raise _fail(
            ErrorKind.TOO_MANY_INVITEES,
            f"You invited {len(invitees)} people; a meeting made from Slack can invite at most "
            f"{MAX_INVITEES}. Invite those who must be there and share the meeting's link with the "
            "rest.",
            "/meet Planning tomorrow 3pm with @alice @bob",
        )
    text = _shown(text, mentions)
    text, repeat = _take_recurrence(text, now=now, tz=tz)
    text, duration = _take_duration(text)
    found = parse_when(text, now=now, tz=tz)
    if found is None:
        return NoTimeFound(topic=_check_topic(_topic_of(text) or DEFAULT_TOPIC))
    rest = _join(_ZH_CONNECTOR.sub("", text[: found.span[0]]), text[found.span[1] :])
    topic = _check_topic(_topic_of(rest) or DEFAULT_TOPIC)
    start = found.start
    duration = default_duration if duration is None else duration
    if start < now - PAST_SLACK:
        raise _fail(
            ErrorKind.PAST_TIME,
            f"“{found.phrase}” is {start:%a %b %d %H:%M} ({tz.key}), which has already passed.",
            f"/meet {topic} tomorrow {start:%H:%M}",
        )
    if start > now + timedelta(days=MAX_DAYS_AHEAD):
        raise _fail(
            ErrorKind.TOO_FAR_AHEAD,
            f"“{found.phrase}” is {start:%Y-%m-%d}, more than a year ahead.",
            f"/meet {topic} next mon 9:30",
        )
    if not MIN_DURATION_MINUTES <= duration <= MAX_DURATION_MINUTES:
        raise _fail(
            ErrorKind.DURATION_OUT_OF_RANGE,
            f"A meeting lasts from {MIN_DURATION_MINUTES} minutes to 24 hours; "
            f"{duration} minutes is outside that.",
            f"/meet {topic} {found.phrase} for 30m",
        )
    return Schedule(
        topic=topic,
        start=start.astimezone(UTC),
        tz_name=tz.key,
        duration_minutes=duration,
        invitees=invitees,
        recurrence=None if repeat is None else _recurrence(repeat, start, topic, found.phrase),
    )


def _recurrence(repeat: _Repeat, start: datetime, topic: str, phrase: str) -> Recurrence:
    weekdays = repeat.weekdays
    if repeat.frequency is Frequency.WEEKLY and not weekdays:
        weekdays = (start.weekday(),)  # "every week": the start's weekday, in the user's zone
    if weekdays and start.weekday() not in weekdays:
        first = _DAY_NAMES[weekdays[0]]
        if repeat.frequency is Frequency.WEEKDAYS:
            days, every = "weekdays", "weekday"
        else:
            days = " and ".join(_DAY_NAMES[day] for day in weekdays)
            every = " and ".join(_DAY_NAMES[day][:3] for day in weekdays)
        raise _fail(
            ErrorKind.RECURRENCE_MISMATCH,
            f"“{phrase}” is a {start:%A}, but the meeting repeats on {days}.",
            f"/meet {topic} {first[:3]} {start:%H:%M} every {every}",
        )
    if repeat.until is not None and repeat.until > start.date() + RECURRENCE_HORIZON:
        raise _fail(
            ErrorKind.UNTIL_TOO_LATE,
            f"The repeats end on {repeat.until:%Y-%m-%d}; a series can last at most a year "
            f"(until {start.date() + RECURRENCE_HORIZON:%Y-%m-%d}).",
            _until_example(start.date()),
        )
    if repeat.until is not None and repeat.until < start.date():
        raise _fail(
            ErrorKind.UNTIL_BEFORE_START,
            f"The repeats end on {repeat.until:%Y-%m-%d}, before the first meeting "
            f"({start:%Y-%m-%d}).",
            _until_example(start.date()),
        )
    return Recurrence(frequency=repeat.frequency, weekdays=weekdays, until=repeat.until)


def _cancel(rest: str) -> Cancel:
    if not rest:
        raise _fail(
            ErrorKind.CANCEL_ID_MISSING,
            "Which meeting? Give the meeting ID shown on its card.",
            "/meet cancel 987654321",
        )
    meeting_id = re.sub(r"[\s\-#]", "", rest)
    if not _digits(meeting_id) or len(meeting_id) > MAX_MEETING_ID_DIGITS:
        raise _fail(
            ErrorKind.CANCEL_ID_INVALID,
            f"“{_plain(rest)}” is not a meeting ID; it is the number shown on the meeting's card.",
            "/meet cancel 987654321",
        )
    return Cancel(meeting_id=meeting_id)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _whole_number(text: str, *, low: int, high: int) -> int | None:
    """`text` as a number from `low` to `high`, or None. Too many digits are refused before int()
    sees them: it raises on more than 4300."""
    if not _digits(text) or len(text.lstrip("0")) > len(str(high)):
        return None
    number = int(text)
    return number if low <= number <= high else None


def _user_id(token: str) -> str | None:
    if token.startswith("<@") and token.endswith(">"):
        user = _USER_MARKUP.fullmatch(token[1:-1])
        return user[1] if user else None
    return token if _BARE_USER.fullmatch(token) else None


def _channel_id(token: str) -> str | None:
    if token.startswith("<#") and token.endswith(">"):
        channel = _CHANNEL_MARKUP.fullmatch(token[1:-1])
        return channel[1] if channel else None
    return token if _BARE_CHANNEL.fullmatch(token) else None


def _admin_user(args: list[str], verb: str) -> str:
    if not args or (user_id := _user_id(args[0])) is None:
        example = (
            "/meet admin map @alice alice@example.com"
            if verb == "map"
            else "/meet admin unmap @alice"
        )
        raise _fail(
            ErrorKind.ADMIN_USER_MISSING,
            f"“admin {verb}” needs the Slack user as an @mention.",
            example,
        )
    return user_id


def _admin(rest: str) -> Command:
    args = rest.split()
    verb = args[0].lower() if args else ""
    args = args[1:]
    match verb:
        case "setup":
            return AdminSetup()
        case "check":
            return AdminCheck()
        case "map":
            user_id = _admin_user(args, verb)
            if len(args) != 2:
                raise _fail(
                    ErrorKind.ADMIN_ID_MISSING,
                    "“admin map” needs the user and one third-party user ID (no spaces).",
                    "/meet admin map @alice alice@example.com",
                )
            third_party = args[1]
            if third_party.startswith("<") and third_party.endswith(">"):
                third_party = _markup_text(third_party[1:-1])  # Slack links e-mail addresses
            return AdminMap(user_id=user_id, third_party_id=_decode(third_party))
        case "unmap":
            return AdminUnmap(user_id=_admin_user(args, verb))
        case "mappings":
            if not args:
                return AdminMappings()
            page = _whole_number(args[0], low=1, high=MAX_MAPPINGS_PAGE)
            if len(args) == 1 and page is not None:
                return AdminMappings(page=page)
            raise _fail(
                ErrorKind.ADMIN_PAGE_INVALID,
                f"“{_plain(' '.join(args))}” is not a page number (1 to {MAX_MAPPINGS_PAGE}).",
                "/meet admin mappings 2",
            )
        case "mapping":
            choice = args[0].lower() if len(args) == 1 else ""
            if choice in set(MappingMode):
                return AdminMappingMode(mode=MappingMode(choice))
            raise _fail(
                ErrorKind.ADMIN_MODE_INVALID,
                "The mapping mode is one of: " + ", ".join(MappingMode) + ".",
                "/meet admin mapping email",
            )
        case "reminders":
            return _reminders(" ".join(args))
        case "channel":
            if len(args) == 1 and (channel_id := _channel_id(args[0])) is not None:
                return AdminChannel(channel_id=channel_id)
            raise _fail(
                ErrorKind.ADMIN_CHANNEL_MISSING,
                "“admin channel” needs one channel as a #link.",
                "/meet admin channel #meetings",
            )
        case _:
            said = f"“{_plain(verb)}” is not an admin command. " if verb else ""
            raise _fail(
                ErrorKind.ADMIN_UNKNOWN_VERB,
                said + "Admin commands: " + ", ".join(ADMIN_VERBS) + ".",
                "/meet admin check",
            )


def _reminders(text: str) -> AdminReminders:
    values = [value for value in re.split(r"[\s,]+", text) if value]
    read = [_whole_number(value, low=0, high=MAX_REMINDER_MINUTES) for value in values]
    minutes = [number for number in read if number is not None]
    if len(set(minutes)) > MAX_REMINDERS:
        raise _fail(
            ErrorKind.ADMIN_REMINDERS_INVALID,
            f"A meeting can have at most {MAX_REMINDERS} reminders; you gave {len(set(minutes))}.",
            "/meet admin reminders 15,5,0",
        )
    if values and len(minutes) == len(values):
        return AdminReminders(minutes=tuple(sorted(set(minutes), reverse=True)))
    raise _fail(
        ErrorKind.ADMIN_REMINDERS_INVALID,
        f"Reminders are minutes before the start, each from 0 to {MAX_REMINDER_MINUTES}, "
        f"separated by commas; “{_plain(text)}” is not.",
        "/meet admin reminders 15,5,0",
    )


def _check_length(raw: str) -> None:
    if (length := len(_plain(raw))) > MAX_COMMAND_LENGTH:
        raise _fail(
            ErrorKind.COMMAND_TOO_LONG,
            f"Your command is {length} characters; the limit is {MAX_COMMAND_LENGTH}. "
            "A command needs only a topic, a time, a duration and who to invite.",
            EXAMPLE_SCHEDULE,
        )


_SIMPLE: Final[Mapping[str, Command]] = MappingProxyType(
    {"schedule": OpenScheduleModal(), "list": ListMeetings(), "whoami": WhoAmI(), "help": Help()}
)


def parse_command(
    text: str, *, now: datetime, tz: ZoneInfo, default_duration: int = 30
) -> Command | CommandError:
    """Read the text after `/meet` (as Slack sends it, escaped) into a Command.

    `now` is aware; `tz` is the user's Slack time zone, in which times are read. Subcommands
    (`now`, `schedule`, `list`, `cancel`, `whoami`, `help`, `admin`) are matched
    case-insensitively on the first word; `schedule`, `list`, `whoami` and `help` only when alone,
    so "List review tomorrow 3pm" is a meeting. Anything else is the schedule form:

        <topic> <when> [for <dur>] [with @a @b …] [every day|weekday|week|monday…|month [until <date>]]

    in any order. The topic is what is left, trimmed of dangling connectors ("at", "on", "for",
    "在" …); an empty topic becomes "Meeting". Mentions outside a `with` clause stay in the topic as
    "@name". "Weekly sync" is a topic: only `every …` (or 每天/每周一/每个工作日/每月) repeats.
    Chinese clauses: 时长1小时 (duration), 邀请 @a (invitees). Text without a time phrase is
    NoTimeFound; nothing is created from it.
    """
    raw = _WHITESPACE.sub(" ", _PRIVATE.sub("", text)).strip()
    first, _, rest = raw.partition(" ")
    keyword = first.lower()
    try:
        if not raw:
            return StartNow()
        _check_length(raw)
        if keyword in _SIMPLE and not rest:
            return _SIMPLE[keyword]
        if keyword == "now":
            return StartNow(topic=_check_topic(_plain(rest).strip()) or None)
        if keyword == "cancel":
            return _cancel(rest)
        if keyword == "admin":
            return _admin(rest)
        return _schedule(raw, now=now, tz=tz, default_duration=default_duration)
    except _InvalidCommandError as invalid:
        return invalid.error
