"""The /meet grammar: Slack's command text -> a typed, validated Command or a CommandError.

Pure: `now` and the user's ZoneInfo are arguments. Slack's `&amp;`/`&lt;`/`&gt;` are decoded here,
once; rendering escapes again. Every repeat in the patterns is bounded or anchored, and the text
is capped at MAX_COMMAND_LENGTH, so a parse costs at most a few milliseconds.

The limits and words are bot/rules.py's. The grammar's parts: `commands.model` (the Command
types and CommandError), `commands.text` (Slack's escaping and markup), `commands.schedule` (the
schedule form) and `commands.admin` (`admin …`); import every name from here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo

from bot.commands.admin import ADMIN_VERBS, parse_admin
from bot.commands.model import (
    AdminChannel,
    AdminCheck,
    AdminMap,
    AdminMappingMode,
    AdminMappings,
    AdminReminders,
    AdminSetup,
    AdminUnmap,
    Ambiguous,
    Cancel,
    Command,
    CommandError,
    Help,
    InvalidCommandError,
    ListMeetings,
    NoTimeFound,
    OpenScheduleModal,
    Recurrence,
    Schedule,
    StartNow,
    WhoAmI,
    fail,
)
from bot.commands.schedule import (
    DEFAULT_TOPIC,
    EXAMPLE_SCHEDULE,
    check_schedule,
    check_topic,
    parse_schedule,
)
from bot.commands.text import PRIVATE_USE, WHITESPACE, all_digits, plain
from bot.rules import (
    DEFAULT_DURATION_MINUTES,
    MAX_COMMAND_LENGTH,
    MAX_DURATION_MINUTES,
    MAX_INVITEES,
    MAX_MAPPINGS_PAGE,
    MAX_MEETING_ID_DIGITS,
    MAX_REMINDER_MINUTES,
    MAX_REMINDERS,
    MAX_TOPIC_LENGTH,
    MIN_DURATION_MINUTES,
    RECURRENCE_HORIZON,
    ErrorKind,
    Frequency,
    MappingMode,
)

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
    "Ambiguous",
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
    "check_schedule",
    "parse_command",
]


def _cancel(rest: str) -> Cancel:
    if not rest:
        raise fail(
            ErrorKind.CANCEL_ID_MISSING,
            "Which meeting? Give the meeting ID shown on its card.",
            "/meet cancel 987654321",
        )
    meeting_id = re.sub(r"[\s\-#]", "", rest)
    if not all_digits(meeting_id) or len(meeting_id) > MAX_MEETING_ID_DIGITS:
        raise fail(
            ErrorKind.CANCEL_ID_INVALID,
            f"“{plain(rest)}” is not a meeting ID; it is the number shown on the meeting's card.",
            "/meet cancel 987654321",
        )
    return Cancel(meeting_id=meeting_id)


def _check_length(raw: str) -> None:
    if (length := len(plain(raw))) > MAX_COMMAND_LENGTH:
        raise fail(
            ErrorKind.COMMAND_TOO_LONG,
            f"Your command is {length} characters; the limit is {MAX_COMMAND_LENGTH}. "
            "A command needs only a topic, a time, a duration and who to invite.",
            EXAMPLE_SCHEDULE,
        )


_SIMPLE: Final[Mapping[str, Command]] = MappingProxyType(
    {"schedule": OpenScheduleModal(), "list": ListMeetings(), "whoami": WhoAmI(), "help": Help()}
)


def parse_command(
    text: str, *, now: datetime, tz: ZoneInfo, default_duration: int = DEFAULT_DURATION_MINUTES
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
    raw = WHITESPACE.sub(" ", PRIVATE_USE.sub("", text)).strip()
    first, _, rest = raw.partition(" ")
    keyword = first.lower()
    try:
        if not raw:
            return StartNow()
        _check_length(raw)
        if keyword in _SIMPLE and not rest:
            return _SIMPLE[keyword]
        if keyword == "now":
            return StartNow(topic=check_topic(plain(rest).strip()) or None)
        if keyword == "cancel":
            return _cancel(rest)
        if keyword == "admin":
            return parse_admin(rest)
        return parse_schedule(raw, now=now, tz=tz, default_duration=default_duration)
    except InvalidCommandError as invalid:
        return invalid.error
