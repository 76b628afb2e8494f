"""The product's limits and vocabulary, one home each, and the checks that compare against them.

Pure, stdlib only: the /meet grammar (bot/commands/), the forms and renderers
(bot/slack/blocks/), the service (bot/service/) and storage all import from here, so a limit
is changed in one place and every surface follows. The checks (`topic_problem`,
`start_problem`, `duration_problem`, `invitees_problem`) hold each comparison once and answer
with an ErrorKind, or None when all is well; each surface words the problem its own way (the
command explains at length, a form field says a few words).

MappingMode, MeetingState, OPEN_STATES and PRIVATE_CARD are re-exported from
`storage.vocabulary`: they are the values of database columns, and storage imports nothing
from `bot/`, so their one home is on storage's side (itself a stdlib-only leaf); the bot
imports them from here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from storage.vocabulary import OPEN_STATES, PRIVATE_CARD, MappingMode, MeetingState

__all__ = [
    "DEFAULT_DURATION_MINUTES",
    "DUPLICATE_WINDOW",
    "LIST_LIMIT",
    "MAPPINGS_PER_PAGE",
    "MAX_COMMAND_LENGTH",
    "MAX_DAYS_AHEAD",
    "MAX_DURATION_MINUTES",
    "MAX_INVITEES",
    "MAX_MAPPINGS_PAGE",
    "MAX_MEETING_ID_DIGITS",
    "MAX_REMINDERS",
    "MAX_REMINDER_MINUTES",
    "MAX_TOPIC_LENGTH",
    "MIN_DURATION_MINUTES",
    "OPEN_STATES",
    "PAST_SLACK",
    "PRIVATE_CARD",
    "RECURRENCE_HORIZON",
    "WEEKDAY_NAMES",
    "ErrorKind",
    "Frequency",
    "MappingMode",
    "MeetingState",
    "NotMappedReason",
    "duration_problem",
    "invitees_problem",
    "is_duplicate",
    "same_topic",
    "start_problem",
    "topic_problem",
]

# --- Limits ------------------------------------------------------------------------------------

MAX_COMMAND_LENGTH: Final = 1000
"""Characters of command text, counted as the user wrote them (a mention as "@name")."""
MAX_TOPIC_LENGTH: Final = 128
MIN_DURATION_MINUTES: Final = 15
MAX_DURATION_MINUTES: Final = 1440
DEFAULT_DURATION_MINUTES: Final = 30
"""The length of a meeting nobody gave one: a schedule without `for …`, the form's initial
choice, an instant meeting."""
MAX_DAYS_AHEAD: Final = 365
"""The scheduling window: a start at most this many days from now…"""
PAST_SLACK: Final = timedelta(minutes=1)
"""…and not in the past, with this much grace (the current minute is not "in the past")."""
RECURRENCE_HORIZON: Final = timedelta(days=364)
"""A series ends at most this long after its first meeting (the vendor's limit is a year)."""
MAX_INVITEES: Final = 50
"""People one meeting made from Slack invites (each gets a DM): the command and the form."""
MAX_REMINDER_MINUTES: Final = 1440
MAX_REMINDERS: Final = 5
"""Reminders per meeting occurrence: each is a channel message."""
MAX_MEETING_ID_DIGITS: Final = 20
"""Conference IDs are 9 to 11 digits; the bound only keeps absurd input out of the lookup."""
MAPPINGS_PER_PAGE: Final = 20
"""Rows of one page of `/meet admin mappings`."""
MAX_MAPPINGS_PAGE: Final = 10_000
LIST_LIMIT: Final = 20
"""Meetings on one page of `/meet list`."""
DUPLICATE_WINDOW: Final = timedelta(minutes=2)
"""A request like one the same person made this recently is taken for a repeat (a double
click, a re-sent command, Slack's retry): nothing new is created unless they insist."""
"""Meetings `/meet list` shows."""

# --- Vocabulary --------------------------------------------------------------------------------

WEEKDAY_NAMES: Final = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
"""The weekdays as messages name them, by Python's weekday(): 0=Monday … 6=Sunday."""


class Frequency(StrEnum):
    """How a scheduled meeting repeats."""

    DAILY = "daily"
    WEEKDAYS = "weekdays"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class NotMappedReason(StrEnum):
    """Why /meet cannot act for a user; the chat side words the advice for each."""

    EXPLICIT = "explicit"
    """The workspace maps users explicitly and this one is not mapped."""
    NO_EMAIL = "no_email"
    """Email mode, but the Slack profile shows no email (or the scope is missing)."""
    NOT_CONFIGURED = "not_configured"
    """No meeting-service app is configured for the workspace."""
    KEY_UNREADABLE = "key_unreadable"
    """The workspace's stored app key no longer opens with the server's secret key."""


class ErrorKind(StrEnum):
    """What was wrong with a request: the kind of a CommandError, and the answer of the checks
    below."""

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


# --- Checks shared by the command, the forms and the service -----------------------------------


def topic_problem(topic: str) -> ErrorKind | None:
    """TOPIC_TOO_LONG when `topic` has more than MAX_TOPIC_LENGTH characters."""
    return ErrorKind.TOPIC_TOO_LONG if len(topic) > MAX_TOPIC_LENGTH else None


def start_problem(start: datetime, now: datetime) -> ErrorKind | None:
    """PAST_TIME or TOO_FAR_AHEAD when the aware `start` lies outside the scheduling window:
    from PAST_SLACK before `now` to MAX_DAYS_AHEAD after it, both ends included."""
    if start < now - PAST_SLACK:
        return ErrorKind.PAST_TIME
    if start > now + timedelta(days=MAX_DAYS_AHEAD):
        return ErrorKind.TOO_FAR_AHEAD
    return None


def duration_problem(minutes: int) -> ErrorKind | None:
    """DURATION_OUT_OF_RANGE outside MIN_DURATION_MINUTES..MAX_DURATION_MINUTES (inclusive)."""
    if MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES:
        return None
    return ErrorKind.DURATION_OUT_OF_RANGE


def invitees_problem(count: int) -> ErrorKind | None:
    """TOO_MANY_INVITEES when `count` people exceed MAX_INVITEES."""
    return ErrorKind.TOO_MANY_INVITEES if count > MAX_INVITEES else None


def same_topic(a: str, b: str) -> bool:
    """Whether two topics are the same but for case and whitespace."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def is_duplicate(
    *,
    topic: str,
    start: datetime,
    end: datetime,
    earlier_topic: str,
    earlier_start: datetime,
    earlier_end: datetime,
    earlier_created: datetime,
    now: datetime,
) -> bool:
    """Whether a request for `topic` from `start` to `end` repeats an earlier meeting of the
    same person in the same conversation: created at most DUPLICATE_WINDOW before `now`, the
    same topic (`same_topic`) and overlapping times (touching ends do not overlap)."""
    return (
        now - earlier_created <= DUPLICATE_WINDOW
        and same_topic(topic, earlier_topic)
        and start < earlier_end
        and earlier_start < end
    )
