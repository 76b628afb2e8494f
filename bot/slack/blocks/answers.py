"""Help and errors: private answers to a command that made no meeting — help, what was wrong
with the command, no time found, not mapped, not allowed, the vendor's refusal, our own failure,
"working on it" and whoami.

Pure: each `render_*` returns a Message for response_url or chat.postEphemeral.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block

from bot import commands as cmd
from bot.rules import (
    MAX_DURATION_MINUTES,
    MAX_INVITEES,
    MAX_TOPIC_LENGTH,
    MIN_DURATION_MINUTES,
    Frequency,
    NotMappedReason,
)
from bot.slack.blocks.common import (
    BUTTON_VALUE_MAX,
    TOPIC_BUDGET,
    Message,
    as_message,
    button,
    clip,
    context,
    escape,
    format_duration,
    header,
    mention,
    mode_label,
    section,
    user_text,
)
from bot.slack.blocks.ids import READING_FORM, READING_PREFIX, START_NOW

__all__ = [
    "NotMappedReason",
    "read_reading",
    "reading_value",
    "render_ambiguous",
    "render_error",
    "render_failure",
    "render_help",
    "render_no_time_found",
    "render_not_allowed",
    "render_not_mapped",
    "render_vendor_error",
    "render_whoami",
    "render_working",
]

# --- Copy --------------------------------------------------------------------------------------

START_NOW_LABEL: Final = "Start now"

ERROR_TEXT: Final = ":warning: {problem}\nTry: `{example}`"
NO_TIME_TEXT: Final = "I couldn't find a time in “{topic}”, so nothing was created."
NO_TIME_EXAMPLE: Final = "To schedule it, add a time: `/meet {topic} tomorrow 3pm for 30m`"
NO_TIME_FALLBACK: Final = "I couldn't find a time in “{topic}”."

AMBIGUOUS_TEXT: Final = ":thinking_face: {problem} Nothing was created: pick what you meant."
AMBIGUOUS_NONE: Final = ":thinking_face: {problem} Nothing was created: pick the time in the form."
AMBIGUOUS_FORM: Final = "Open the form"
READING_TODAY: Final = "Today {clock}"
READING_TOMORROW: Final = "Tomorrow {clock}"

HELP_TITLE: Final = "meetbot: Huawei Cloud Meeting from Slack"
HELP_TEXT: Final = (
    "`/meet` — start an instant meeting now\n"
    "`/meet now Design review` — an instant meeting with a topic\n"
    "`/meet Standup tomorrow 9:30 for 15m with @ana @li every weekday` — schedule one\n"
    "`/meet schedule` — pick the time in a form\n"
    "`/meet list` — your upcoming meetings\n"
    "`/meet cancel <meeting ID>` — cancel a meeting you organize\n"
    "`/meet whoami` — your meeting user ID\n"
    "`/meet help` — this message"
)
HELP_TIMES: Final = (
    "Times are read in your Slack time zone: `3pm`, `today 14:30`, `in 2 hours`, "
    "`next mon 09:30`, `12/24 14:00`, `明天下午3点`. "
    f"Durations from {format_duration(MIN_DURATION_MINUTES)} to "
    f"{format_duration(MAX_DURATION_MINUTES)}."
)
HELP_ADMIN: Final = (
    "*Admin*\n"
    "`/meet admin setup` — app ID, app key, corp ID and user mapping mode\n"
    "`/meet admin map @user <meeting user ID>` · `unmap @user` · `mappings`\n"
    "`/meet admin reminders 15,5,0` · `channel #channel` · `check`"
)
HELP_FALLBACK: Final = "How to use /meet"

WHOAMI_USER: Final = "You are {user}. User mapping mode: *{mode}*."
WHOAMI_ID: Final = "Your meeting user ID: `{third_party_id}`"
WHOAMI_NONE: Final = "You have no meeting user ID yet: {problem}"
WHOAMI_FALLBACK: Final = "Your meeting user ID: {third_party_id}"
WHOAMI_FALLBACK_NONE: Final = "You have no meeting user ID yet."


NOT_MAPPED_TEXT: Final = {
    NotMappedReason.EXPLICIT: (
        "Your workspace uses explicit mapping and you are not mapped yet: ask a workspace "
        "admin to run `/meet admin map @you <your meeting user ID>`."
    ),
    NotMappedReason.NO_EMAIL: (
        "I can't read an email address on your Slack profile, which this workspace uses to "
        "find your meeting account: add one to your profile, or ask a workspace admin to run "
        "`/meet admin map @you <your meeting user ID>`."
    ),
    NotMappedReason.NOT_CONFIGURED: (
        "Huawei Cloud Meeting is not set up for this workspace yet: ask a workspace admin to "
        "run `/meet admin setup`."
    ),
    NotMappedReason.KEY_UNREADABLE: (
        "Nothing was done: the meeting-service app key stored for this workspace can no longer "
        "be read (meetbot's secret key changed since it was saved). A workspace admin must "
        "enter the app key again with `/meet admin setup`."
    ),
}
NOT_ALLOWED_TEXT: Final = ":no_entry: Only {who} can {action}."
NOT_ALLOWED_WHO: Final = "the organizer or a workspace admin"
VENDOR_ERROR: Final = ":x: Huawei Cloud Meeting couldn't do that: {message}"
FAILURE: Final = ":x: {message}"
WORKING: Final = ":hourglass_flowing_sand: {text}"


def render_error(problem: str, example: str) -> Message:
    """Ephemeral: what was wrong with the command, and a correct example."""
    problem_text = user_text(problem, 1000)
    text = ERROR_TEXT.format(problem=problem_text, example=user_text(example, 1000))
    return as_message(problem_text, [section(text)])


def render_no_time_found(topic: str) -> Message:
    """Ephemeral: no time in the text; offers Start now (value: the raw topic) and an example."""
    shown = user_text(topic, TOPIC_BUDGET)
    blocks: list[Block] = [
        section(NO_TIME_TEXT.format(topic=shown)),
        ActionsBlock(
            elements=[
                button(
                    START_NOW_LABEL,
                    START_NOW,
                    value=clip(topic, BUTTON_VALUE_MAX) or None,
                    style="primary",
                )
            ]
        ),
        context(NO_TIME_EXAMPLE.format(topic=shown)),
    ]
    return as_message(NO_TIME_FALLBACK.format(topic=shown), blocks)


def render_help(is_admin: bool) -> Message:
    """Ephemeral: the /meet commands (admin ones for admins)."""
    blocks: list[Block] = [
        header(HELP_TITLE),
        section(escape(HELP_TEXT)),
        context(escape(HELP_TIMES)),
    ]
    if is_admin:
        blocks.append(section(escape(HELP_ADMIN)))
    return as_message(HELP_FALLBACK, blocks)


def render_whoami(
    user_id: str, third_party_id: str | None, mode: str, problem: str | None
) -> Message:
    """Ephemeral: who the caller is to the meeting service, or why they are nobody yet."""
    lines = [WHOAMI_USER.format(user=mention(user_id), mode=mode_label(mode))]
    if third_party_id is not None:
        shown = user_text(third_party_id)
        lines.append(WHOAMI_ID.format(third_party_id=shown))
        fallback = WHOAMI_FALLBACK.format(third_party_id=shown)
    else:
        fallback = WHOAMI_FALLBACK_NONE
        lines.append(
            fallback if problem is None else WHOAMI_NONE.format(problem=user_text(problem, 1000))
        )
    return as_message(fallback, [section("\n".join(lines))])


def render_not_mapped(reason: NotMappedReason) -> Message:
    """Ephemeral: the caller has no meeting user yet, and exactly what to ask an admin."""
    text = escape(NOT_MAPPED_TEXT[reason])
    return as_message(text, [section(text)])


def render_not_allowed(action: str, *, who: str = NOT_ALLOWED_WHO) -> Message:
    """Ephemeral: e.g. render_not_allowed("cancel this meeting")."""
    text = NOT_ALLOWED_TEXT.format(who=user_text(who), action=user_text(action))
    return as_message(text, [section(text)])


def render_vendor_error(user_message: str) -> Message:
    """Ephemeral: the meeting service refused; `user_message` from MeetingServiceError."""
    text = VENDOR_ERROR.format(message=user_text(user_message, 1000))
    return as_message(text, [section(text)])


def render_failure(user_message: str) -> Message:
    """Ephemeral: meetbot itself failed (not the meeting service) and undid what it began."""
    text = FAILURE.format(message=user_text(user_message, 1000))
    return as_message(text, [section(text)])


def render_working(text: str) -> Message:
    """Ephemeral placeholder while a slow call runs, e.g. "Creating your meeting…"."""
    shown = WORKING.format(text=user_text(text, 1000))
    return as_message(shown, [context(shown)])


# --- An unclear time: its readings, one click each -----------------------------------------------


def render_ambiguous(question: cmd.Ambiguous, *, now: datetime) -> Message:
    """Ephemeral: what was understood, a button per reading (its value the whole request, so a
    press books exactly that) and "Open the form" prefilled; labels in the user's zone."""
    problem = user_text(question.problem, 1000)
    buttons = [
        button(_label(reading, now), f"{READING_PREFIX}{index}", value=reading_value(reading))
        for index, reading in enumerate(question.readings)
    ]
    buttons.append(button(AMBIGUOUS_FORM, READING_FORM, value=reading_value(question.form)))
    text = (AMBIGUOUS_TEXT if question.readings else AMBIGUOUS_NONE).format(problem=problem)
    return as_message(text, [section(text), ActionsBlock(elements=buttons)])


def _label(reading: cmd.Schedule, now: datetime) -> str:
    zone = ZoneInfo(reading.tz_name)
    start, today = reading.start.astimezone(zone), now.astimezone(zone).date()
    clock = f"{start:%H:%M}"
    if start.date() == today:
        return READING_TODAY.format(clock=clock)
    if start.date() == today + timedelta(days=1):
        return READING_TOMORROW.format(clock=clock)
    return f"{start:%a %b %d} {clock}"


def reading_value(request: cmd.Schedule) -> str:
    """A request as a button value (at most BUTTON_VALUE_MAX characters: a topic of 128 and 50
    invitees fit): compact JSON, read back by `read_reading`."""
    repeat = request.recurrence
    value = json.dumps(
        {
            "t": request.topic,
            "s": int(request.start.timestamp()),
            "z": request.tz_name,
            "d": request.duration_minutes,
            "i": ",".join(request.invitees),
            "r": None
            if repeat is None
            else [
                repeat.frequency.value,
                list(repeat.weekdays),
                repeat.until and repeat.until.isoformat(),
            ],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    if len(value) > BUTTON_VALUE_MAX:
        raise ValueError("a reading does not fit in a button value")
    return value


_USER_ID: Final = re.compile(r"[UW][A-Z0-9]{2,15}")
_ZONE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_+\-/]{0,40}")
_MAX_EPOCH: Final = 253402300799  # 9999-12-31 23:59:59 UTC


def read_reading(value: str) -> cmd.Schedule | None:
    """A button value back as a request; None unless every field has its type and bounds. The
    value comes from the user: the caller still checks the request as a command
    (bot.commands.check_schedule)."""
    try:
        data: Any = json.loads(value) if len(value) <= BUTTON_VALUE_MAX else None
        topic, epoch, zone = data["t"], data["s"], data["z"]
        duration, invitees, repeat = data["d"], data["i"], data["r"]
        if not (
            isinstance(topic, str)
            and len(topic) <= MAX_TOPIC_LENGTH
            and type(epoch) is int
            and 0 <= epoch <= _MAX_EPOCH
            and isinstance(zone, str)
            and _ZONE.fullmatch(zone)
            and type(duration) is int
            and isinstance(invitees, str)
            and len(invitees := invitees.split(",") if invitees else []) <= MAX_INVITEES
            and all(_USER_ID.fullmatch(i) for i in invitees)
        ):
            return None
        ZoneInfo(zone)
        return cmd.Schedule(
            topic=topic,
            start=datetime.fromtimestamp(epoch, UTC),
            tz_name=zone,
            duration_minutes=duration,
            invitees=tuple(dict.fromkeys(invitees)),
            recurrence=None if repeat is None else _recurrence(repeat),
        )
    except (ValueError, TypeError, KeyError, IndexError):  # ZoneInfoNotFoundError is a KeyError
        return None


def _recurrence(repeat: Any) -> cmd.Recurrence:
    frequency, weekdays, until = repeat
    if not (isinstance(weekdays, list) and all(type(d) is int and 0 <= d <= 6 for d in weekdays)):
        raise ValueError("weekdays")
    if until is not None and not isinstance(until, str):
        raise ValueError("until")
    return cmd.Recurrence(
        frequency=Frequency(frequency),
        weekdays=tuple(sorted(set(weekdays))),
        until=None if until is None else date.fromisoformat(until),
    )
