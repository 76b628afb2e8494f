"""All Block Kit rendering of meetbot, and the one place where user text is escaped for Slack.

Pure: each `render_*` takes what it shows (and `now` where time matters) and returns a dict ready
for chat.postMessage / chat.update / response_url (`{"text", "blocks"}`) or views.open (a view).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CallBlock,
    ConfirmObject,
    ContextBlock,
    DateTimePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.commands import MAX_INVITEES

__all__ = [
    "ADMIN_APP_ID",
    "ADMIN_APP_KEY",
    "ADMIN_CORP_ID",
    "ADMIN_MODE",
    "ADMIN_SETUP_MODAL",
    "CANCEL",
    "DURATION_CHOICES",
    "HOST_JOIN",
    "JOIN",
    "LIST_MAX",
    "MAPPINGS_PAGE",
    "MAPPINGS_PAGE_NEXT",
    "MAPPINGS_PAGE_PREV",
    "MAPPING_MODES",
    "RECURRENCE_CHOICES",
    "SCHEDULE_DURATION",
    "SCHEDULE_INVITEES",
    "SCHEDULE_MODAL",
    "SCHEDULE_RECURRENCE",
    "SCHEDULE_START",
    "SCHEDULE_TOPIC",
    "START_NOW",
    "TOPIC_MAX_LENGTH",
    "CardState",
    "CardView",
    "Message",
    "NotMappedReason",
    "ScheduleForm",
    "date_token",
    "escape",
    "format_duration",
    "format_meeting_id",
    "read_schedule_modal",
    "render_admin_setup_modal",
    "render_cancelled_notice",
    "render_card",
    "render_done",
    "render_error",
    "render_help",
    "render_host_details",
    "render_invite_dm",
    "render_list",
    "render_mappings",
    "render_no_time_found",
    "render_not_allowed",
    "render_not_mapped",
    "render_reminder",
    "render_schedule_modal",
    "render_thread_ended",
    "render_thread_started",
    "render_vendor_error",
    "render_whoami",
    "render_working",
]

Message = dict[str, Any]
"""`{"text": fallback, "blocks": [...]}`: splat into chat.postMessage, chat.update or respond()."""

# --- Identifiers shared with the handlers ------------------------------------------------------

JOIN: Final = "meet_join"
"""Join link button (url button: Slack still sends an action, which must be acked)."""
CANCEL: Final = "meet_cancel"
"""Cancel button on a scheduled card; value is str(CardView.meeting_id)."""
HOST_JOIN: Final = "meet_host_join"
"""Host link button in the organizer's ephemeral message (url button, ack only)."""
START_NOW: Final = "meet_start_now"
"""'Start now' after no time was found; value is the topic exactly as typed (not escaped)."""
MAPPINGS_PAGE_PREV: Final = "meet_mappings_page_prev"
MAPPINGS_PAGE_NEXT: Final = "meet_mappings_page_next"
MAPPINGS_PAGE: Final = re.compile(r"^meet_mappings_page_(prev|next)$")
"""Register with app.action(MAPPINGS_PAGE); the button's value is the page number to show.
Two ids because Slack wants action_ids unique within a block."""

SCHEDULE_MODAL: Final = "meet_schedule_modal"
ADMIN_SETUP_MODAL: Final = "meet_admin_setup_modal"

# Each modal input uses one constant as both block_id and action_id:
# view["state"]["values"][SCHEDULE_TOPIC][SCHEDULE_TOPIC]["value"].
SCHEDULE_TOPIC: Final = "schedule_topic"
SCHEDULE_START: Final = "schedule_start"
SCHEDULE_DURATION: Final = "schedule_duration"
SCHEDULE_INVITEES: Final = "schedule_invitees"
SCHEDULE_RECURRENCE: Final = "schedule_recurrence"
ADMIN_APP_ID: Final = "admin_app_id"
ADMIN_APP_KEY: Final = "admin_app_key"
ADMIN_CORP_ID: Final = "admin_corp_id"
ADMIN_MODE: Final = "admin_mode"

TOPIC_MAX_LENGTH: Final = 128
DURATION_CHOICES: Final = (15, 30, 45, 60, 90, 120, 180, 240)
"""Minutes offered by the modal; the option value is str(minutes)."""
DEFAULT_DURATION: Final = 30
RECURRENCE_CHOICES: Final = (
    ("none", "Does not repeat"),
    ("daily", "Every day"),
    ("weekdays", "Every weekday"),
    ("weekly", "Every week"),
    ("monthly", "Every month"),
)
"""(option value, label) of the modal's recurrence select."""
MAPPING_MODES: Final = (
    ("email", "Slack profile email"),
    ("slack", "Slack IDs (TEAM-USER)"),
    ("explicit", "Only users an admin mapped"),
)
"""(mode, label) of the workspace's user-mapping modes."""
LIST_MAX: Final = 20

# --- Slack limits (characters; counted in UTF-16 units to be safe for wide characters) ---------

MAX_BLOCKS: Final = 50
SECTION_TEXT_MAX: Final = 3000
TOPIC_BUDGET: Final = 700
"""Room for an escaped topic: 128 characters of `&` become 640."""
SHORT_BUDGET: Final = 200
INVITEES_BUDGET: Final = 1500
BUTTON_VALUE_MAX: Final = 2000
CONFIRM_TOPIC_BUDGET: Final = 150

# --- Copy --------------------------------------------------------------------------------------

DATE_FORMAT: Final = "{date_short_pretty} at {time}"
ELLIPSIS: Final = "…"

JOIN_LABEL: Final = "Join"
HOST_JOIN_LABEL: Final = "Join as host"
CANCEL_LABEL: Final = "Cancel meeting"
CANCEL_CONFIRM_TITLE: Final = "Cancel this meeting?"
CANCEL_CONFIRM_TEXT: Final = "*{topic}* will be cancelled for everyone."
CANCEL_CONFIRM_YES: Final = "Cancel meeting"
CANCEL_CONFIRM_NO: Final = "Keep it"
START_NOW_LABEL: Final = "Start now"
PREV_LABEL: Final = "Previous"
NEXT_LABEL: Final = "Next"

CARD_ORGANIZER: Final = "Organizer {organizer}"
CARD_WHEN: Final = ":calendar: {when} · {duration}"
CARD_STARTED: Final = ":zap: Started {when} · {duration}"
CARD_INSTANT: Final = ":zap: Instant meeting · {duration}"
CARD_RECURRENCE: Final = ":repeat: {recurrence}"
CARD_MEETING_ID: Final = "Meeting ID: {meeting_id}"
CARD_INVITEES: Final = "Invited: {invitees}"
INVITEES_MORE: Final = " and {count} more"
STATE_SCHEDULED: Final = ":spiral_calendar_pad: Scheduled"
STATE_LIVE: Final = ":red_circle: In progress"
STATE_ENDED: Final = ":checkered_flag: Ended"
STATE_ENDED_LASTED: Final = ":checkered_flag: Ended — lasted {duration}"
STATE_CANCELLED: Final = ":no_entry_sign: Cancelled"
STATE_CANCELLED_BY: Final = ":no_entry_sign: Cancelled by {user}"
PARTICIPANTS: Final = " · {count} participant"
PARTICIPANTS_PLURAL: Final = " · {count} participants"
FALLBACK_SCHEDULED: Final = "{topic} — {when} — join: {url}"
FALLBACK_LIVE: Final = "{topic} — in progress — join: {url}"
FALLBACK_ENDED: Final = "{topic} — ended"
FALLBACK_ENDED_LASTED: Final = "{topic} — ended, lasted {duration}"
FALLBACK_CANCELLED: Final = "{topic} — cancelled"
FALLBACK_INSTANT: Final = "instant meeting"
FALLBACK_STARTED: Final = "started {when}"

HOST_TITLE: Final = "*Host details for {topic}*\nOnly you can see this message."
# Copy that names the host password, not a password (S105).
HOST_PASSWORD: Final = "Host password: `{password}`"  # noqa: S105
HOST_NO_PASSWORD: Final = "The host link needs no password."  # noqa: S105
HOST_WARNING: Final = "Don't share the host link: anyone who opens it joins as host."
HOST_FALLBACK: Final = "Host details for {topic} (only you can see this)"

INVITE_TEXT: Final = "{inviter} invited you to *{topic}*"
INVITE_FALLBACK: Final = "{inviter} invited you to {topic} — {when} — join: {url}"

STARTS_IN: Final = "starts in {duration}"
STARTING_NOW: Final = "starting now"
STARTED_AGO: Final = "started {duration} ago"
REMINDER_TEXT: Final = ":alarm_clock: *{topic}* {relative} ({when})"
REMINDER_FALLBACK: Final = "{topic} {relative} — join: {url}"

THREAD_STARTED: Final = ":red_circle: *{topic}* has started{participants}"
THREAD_STARTED_FALLBACK: Final = "{topic} has started — join: {url}"
THREAD_ENDED: Final = ":checkered_flag: *{topic}* ended — lasted {duration}"
THREAD_ENDED_FALLBACK: Final = "{topic} ended — lasted {duration}"

LIST_TITLE: Final = "Your upcoming meetings"
LIST_EMPTY: Final = (
    "You have no upcoming meetings. Schedule one with `/meet Standup tomorrow 9:30`."
)
LIST_ITEM: Final = "*{topic}*\n{when} · {duration} · ID {meeting_id}"
LIST_MORE: Final = "…and {count} more not shown."
LIST_FOOTER: Final = "Cancel one with `/meet cancel <meeting ID>`."
LIST_FALLBACK: Final = "Your upcoming meetings: {count}"
LIST_LIVE: Final = ":red_circle: In progress"

ERROR_TEXT: Final = ":warning: {problem}\nTry: `{example}`"
NO_TIME_TEXT: Final = "I couldn't find a time in “{topic}”, so nothing was created."
NO_TIME_EXAMPLE: Final = "To schedule it, add a time: `/meet {topic} tomorrow 3pm for 30m`"
NO_TIME_FALLBACK: Final = "I couldn't find a time in “{topic}”."

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
    "`next mon 09:30`, `12/24 14:00`, `明天下午3点`. Durations from 15 min to 24 h."
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


class NotMappedReason(StrEnum):
    """Why /meet cannot act for a user; each has its own advice."""

    EXPLICIT = "explicit"
    """The workspace maps users explicitly and this one is not mapped."""
    NO_EMAIL = "no_email"
    """Email mode, but the Slack profile shows no email (or the scope is missing)."""
    NOT_CONFIGURED = "not_configured"
    """No meeting-service app is configured for the workspace."""
    KEY_UNREADABLE = "key_unreadable"
    """The workspace's stored app key no longer opens with the server's secret key."""


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
CANCELLED_NOTICE: Final = ":no_entry_sign: *{topic}* ({when}) was cancelled{by}."
CANCELLED_NOTICE_FALLBACK: Final = "{topic} was cancelled{by}."
CANCELLED_BY: Final = " by {user}"
VENDOR_ERROR: Final = ":x: Huawei Cloud Meeting couldn't do that: {message}"
FAILURE: Final = ":x: {message}"
WORKING: Final = ":hourglass_flowing_sand: {text}"
DONE: Final = ":white_check_mark: {text}"

MAPPINGS_TITLE: Final = "User mappings"
MAPPINGS_STATUS: Final = "Mode: *{mode}* · page {page} of {pages}"
MAPPINGS_ROW: Final = "{user} → `{third_party_id}`"
MAPPINGS_EMPTY: Final = (
    "No one is mapped yet. Map someone with `/meet admin map @user <meeting user ID>`."
)
MAPPINGS_MORE: Final = "…and {count} more rows on this page not shown."
MAPPINGS_FALLBACK: Final = "User mappings, page {page} of {pages}"

SCHEDULE_TITLE: Final = "Schedule a meeting"
SCHEDULE_SUBMIT: Final = "Schedule"
MODAL_CLOSE: Final = "Close"
SCHEDULE_TOPIC_LABEL: Final = "Topic"
SCHEDULE_TOPIC_PLACEHOLDER: Final = "Weekly sync"
SCHEDULE_START_LABEL: Final = "Starts"
SCHEDULE_DURATION_LABEL: Final = "Duration"
SCHEDULE_INVITEES_LABEL: Final = "Invite"
SCHEDULE_INVITEES_PLACEHOLDER: Final = "Choose people"
SCHEDULE_INVITEES_HINT: Final = f"Up to {MAX_INVITEES} people; each gets a direct message."
SCHEDULE_RECURRENCE_LABEL: Final = "Repeats"

ADMIN_TITLE: Final = "Meeting service setup"
ADMIN_SUBMIT: Final = "Save"
ADMIN_INTRO: Final = (
    "The Huawei Cloud Meeting app this workspace uses (app-ID authentication). "
    "Only workspace admins can change it."
)
ADMIN_APP_ID_LABEL: Final = "App ID"
ADMIN_APP_KEY_LABEL: Final = "App key"
ADMIN_APP_KEY_HINT_KEEP: Final = "Leave empty to keep the current key."
ADMIN_APP_KEY_HINT_NEW: Final = "Stored encrypted; never shown again."
ADMIN_KEY_UNREADABLE: Final = (
    ":warning: The app key stored for this workspace can no longer be read: meetbot's secret "
    "key changed since it was saved. Enter the app key again."
)
ADMIN_CORP_ID_LABEL: Final = "Corp ID"
ADMIN_CORP_ID_HINT: Final = "Only for service-provider (SP) mode; leave empty otherwise."
ADMIN_MODE_LABEL: Final = "How Slack users map to meeting users"

FORM_TOPIC_EMPTY: Final = "Give the meeting a topic."
FORM_TOPIC_LONG: Final = "Keep the topic to 128 characters."
FORM_START_MISSING: Final = "Pick a start time."
FORM_START_PAST: Final = "Pick a time in the future."
FORM_START_FAR: Final = "Pick a time within the next year."
FORM_DURATION: Final = "Pick a duration."
FORM_INVITEES: Final = f"Pick at most {MAX_INVITEES} people."
FORM_RECURRENCE: Final = "Pick how it repeats."
MAX_AHEAD: Final = timedelta(days=365)
PAST_GRACE: Final = timedelta(minutes=1)
"""The picker has minute resolution: the current minute is not "in the past"."""

_WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_USER_ID: Final = re.compile(r"^[UW][A-Z0-9]{2,}$")


class CardState(StrEnum):
    """What the card says about the meeting's life."""

    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class CardView:
    """What a meeting card shows; filled by the service layer. Text fields are raw, unescaped.

    `start` is the scheduled start (aware). Instant meetings set `instant=True` and pass the
    moment they started as `start`, or None when that is unknown.
    """

    meeting_id: int
    conference_id: str
    topic: str
    organizer_id: str
    start: datetime | None
    duration_minutes: int
    join_url: str
    state: CardState
    recurrence_text: str | None
    invitee_ids: tuple[str, ...]
    participant_count: int | None = None
    ended_duration_minutes: int | None = None
    cancelled_by: str | None = None
    instant: bool = False
    call_id: str | None = None
    """A Slack call object (MEETBOT_SLACK_CALLS): shown as a native call block."""


@dataclass(frozen=True, slots=True)
class ScheduleForm:
    """A valid submission of the scheduling modal. `topic` is raw text, as the user typed it."""

    topic: str
    start: datetime
    duration_minutes: int
    invitee_ids: tuple[str, ...]
    recurrence: str | None
    """A value of RECURRENCE_CHOICES other than "none", or None."""


# --- Text helpers ------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Make user text inert in mrkdwn: only `&`, `<`, `>` are replaced, as Slack asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _clip(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` UTF-16 units (never splits a character)."""
    if _units(text) <= limit:
        return text
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def _fit(escaped: str, limit: int) -> str:
    """Shorten escaped text to `limit` with an ellipsis, never cutting an `&…;` entity in two."""
    if _units(escaped) <= limit:
        return escaped
    cut = _clip(escaped, limit - 1)
    amp = cut.rfind("&", max(0, len(cut) - 4))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ELLIPSIS


def _user_text(text: str, budget: int = SHORT_BUDGET) -> str:
    return _fit(escape(text), budget)


def _topic(card: CardView) -> str:
    return _user_text(card.topic, TOPIC_BUDGET)


def _mention(user_id: str) -> str:
    """A Slack mention for a well-formed user ID; anything else is shown as inert text."""
    if _USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    return _user_text(user_id, 64)


def _mentions(user_ids: Sequence[str], budget: int = INVITEES_BUDGET) -> str:
    shown: list[str] = []
    used = 0
    for user_id in user_ids:
        mention = _mention(user_id)
        if used + _units(mention) + 2 > budget:
            break
        shown.append(mention)
        used += _units(mention) + 2
    text = ", ".join(shown)
    if len(shown) < len(user_ids):
        text += INVITEES_MORE.format(count=len(user_ids) - len(shown))
    return text


def _utc_text(dt: datetime) -> str:
    utc = dt.astimezone(UTC)
    return f"{_WEEKDAYS[utc.weekday()]}, {_MONTHS[utc.month - 1]} {utc.day} at {utc:%H:%M} UTC"


def format_duration(minutes: int) -> str:
    """`30 min`, `1 h`, `1 h 30 min`; zero reads `under 1 min`."""
    if minutes < 0:
        raise ValueError(f"a duration cannot be negative: {minutes}")
    if minutes == 0:
        return "under 1 min"
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def format_meeting_id(conference_id: str) -> str:
    """Digits grouped as people read them out (`123 456 789`); anything else unchanged."""
    digits = conference_id.replace(" ", "")
    if not digits.isascii() or not digits.isdigit() or not 9 <= len(digits) <= 11:
        return conference_id
    if len(digits) <= 10:
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    return f"{digits[:3]} {digits[3:7]} {digits[7:]}"


def date_token(dt: datetime, *, fmt: str = DATE_FORMAT) -> str:
    """A Slack date token: each reader sees `dt` in their own time zone; UTC text as fallback."""
    if dt.tzinfo is None:
        raise ValueError("date_token needs an aware datetime")
    return f"<!date^{math.floor(dt.timestamp())}^{fmt}|{_utc_text(dt)}>"


def _minutes_until(start: datetime, now: datetime) -> int:
    return math.floor((start - now).total_seconds() / 60 + 0.5)


def _relative(minutes: int) -> str:
    if minutes > 0:
        return STARTS_IN.format(duration=format_duration(minutes))
    if minutes == 0:
        return STARTING_NOW
    return STARTED_AGO.format(duration=format_duration(-minutes))


# --- Block helpers -----------------------------------------------------------------------------


def _md(text: str) -> MarkdownTextObject:
    # verbatim: Slack would otherwise link-ify bare channel names and parse some mentions.
    return MarkdownTextObject(text=text, verbatim=True)


def _section(text: str, accessory: ButtonElement | None = None) -> SectionBlock:
    return SectionBlock(text=_md(text), accessory=accessory)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[_md(text)])


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=text))


def _button(
    label: str,
    action_id: str,
    *,
    url: str | None = None,
    value: str | None = None,
    style: str | None = None,
    confirm: ConfirmObject | None = None,
) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=label),
        action_id=action_id,
        url=url,
        value=value,
        style=style,
        confirm=confirm,
    )


def _join_button(card: CardView) -> ButtonElement:
    return _button(JOIN_LABEL, JOIN, url=card.join_url, value=str(card.meeting_id), style="primary")


def _message(text: str, blocks: Sequence[Block]) -> Message:
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks exceed Slack's {MAX_BLOCKS}")
    return {"text": text, "blocks": [block.to_dict() for block in blocks]}


def _option(value: str, label: str) -> Option:
    return Option(value=value, text=PlainTextObject(text=label))


# --- Meeting messages --------------------------------------------------------------------------


def _when(card: CardView) -> str:
    duration = format_duration(card.duration_minutes)
    if card.start is None:
        return CARD_INSTANT.format(duration=duration)
    template = CARD_STARTED if card.instant else CARD_WHEN
    return template.format(when=date_token(card.start), duration=duration)


def _when_fallback(card: CardView) -> str:
    if card.start is None:
        return FALLBACK_INSTANT
    when = _utc_text(card.start)
    return FALLBACK_STARTED.format(when=when) if card.instant else when


def _meeting_id(card: CardView) -> str:
    return _user_text(format_meeting_id(card.conference_id), 64)


def _participants(count: int | None) -> str:
    if count is None:
        return ""
    return (PARTICIPANTS if count == 1 else PARTICIPANTS_PLURAL).format(count=count)


def _status(card: CardView) -> str:
    match card.state:
        case CardState.SCHEDULED:
            return STATE_SCHEDULED
        case CardState.LIVE:
            return STATE_LIVE + _participants(card.participant_count)
        case CardState.ENDED:
            if card.ended_duration_minutes is None:
                return STATE_ENDED
            return STATE_ENDED_LASTED.format(duration=format_duration(card.ended_duration_minutes))
        case CardState.CANCELLED:
            if card.cancelled_by is None:
                return STATE_CANCELLED
            return STATE_CANCELLED_BY.format(user=_mention(card.cancelled_by))


def _card_fallback(card: CardView) -> str:
    topic = _topic(card)
    url = escape(card.join_url)
    match card.state:
        case CardState.SCHEDULED:
            return FALLBACK_SCHEDULED.format(topic=topic, when=_when_fallback(card), url=url)
        case CardState.LIVE:
            return FALLBACK_LIVE.format(topic=topic, url=url)
        case CardState.ENDED:
            if card.ended_duration_minutes is None:
                return FALLBACK_ENDED.format(topic=topic)
            return FALLBACK_ENDED_LASTED.format(
                topic=topic, duration=format_duration(card.ended_duration_minutes)
            )
        case CardState.CANCELLED:
            return FALLBACK_CANCELLED.format(topic=topic)


def _cancel_button(card: CardView) -> ButtonElement:
    confirm = ConfirmObject(
        title=PlainTextObject(text=CANCEL_CONFIRM_TITLE),
        text=_md(CANCEL_CONFIRM_TEXT.format(topic=_user_text(card.topic, CONFIRM_TOPIC_BUDGET))),
        confirm=PlainTextObject(text=CANCEL_CONFIRM_YES),
        deny=PlainTextObject(text=CANCEL_CONFIRM_NO),
        style="danger",
    )
    return _button(
        CANCEL_LABEL, CANCEL, value=str(card.meeting_id), style="danger", confirm=confirm
    )


def render_card(card: CardView) -> Message:
    """The channel card: details, live state, and Join (and Cancel while scheduled)."""
    lines = [
        f"*{_topic(card)}*",
        CARD_ORGANIZER.format(organizer=_mention(card.organizer_id)),
        _when(card),
    ]
    if card.recurrence_text:
        lines.append(CARD_RECURRENCE.format(recurrence=_user_text(card.recurrence_text)))
    lines.append(CARD_MEETING_ID.format(meeting_id=_meeting_id(card)))
    if card.invitee_ids:
        lines.append(CARD_INVITEES.format(invitees=_mentions(card.invitee_ids)))
    blocks: list[Block] = [_section("\n".join(lines)), _context(_status(card))]
    if card.call_id and card.state in (CardState.SCHEDULED, CardState.LIVE):
        blocks.append(CallBlock(call_id=card.call_id))
    if card.state is CardState.SCHEDULED:
        blocks.append(ActionsBlock(elements=[_join_button(card), _cancel_button(card)]))
    elif card.state is CardState.LIVE:
        blocks.append(ActionsBlock(elements=[_join_button(card)]))
    return _message(_card_fallback(card), blocks)


def render_host_details(card: CardView, host_url: str, host_password: str | None) -> Message:
    """Ephemeral, to the organizer only: the host link and host password."""
    topic = _topic(card)
    password = (
        HOST_NO_PASSWORD
        if host_password is None
        else HOST_PASSWORD.format(password=_user_text(host_password, 64))
    )
    blocks: list[Block] = [
        _section(
            f"{HOST_TITLE.format(topic=topic)}\n{password}",
            accessory=_button(
                HOST_JOIN_LABEL,
                HOST_JOIN,
                url=host_url,
                value=str(card.meeting_id),
                style="primary",
            ),
        ),
        _context(HOST_WARNING),
    ]
    return _message(HOST_FALLBACK.format(topic=topic), blocks)


def render_invite_dm(card: CardView, inviter_id: str) -> Message:
    """A direct message to an invitee, with Join."""
    inviter = _mention(inviter_id)
    topic = _topic(card)
    lines = [INVITE_TEXT.format(inviter=inviter, topic=topic), _when(card)]
    if card.recurrence_text:
        lines.append(CARD_RECURRENCE.format(recurrence=_user_text(card.recurrence_text)))
    lines.append(CARD_MEETING_ID.format(meeting_id=_meeting_id(card)))
    blocks: list[Block] = [
        _section("\n".join(lines)),
        ActionsBlock(elements=[_join_button(card)]),
    ]
    fallback = INVITE_FALLBACK.format(
        inviter=inviter, topic=topic, when=_when_fallback(card), url=escape(card.join_url)
    )
    return _message(fallback, blocks)


def render_reminder(card: CardView, *, minutes_before: int, now: datetime) -> Message:
    """A reminder in the channel; the wording follows the real time left (late ones say so)."""
    if card.start is None:
        relative = _relative(minutes_before)
        when = FALLBACK_INSTANT
    else:
        relative = _relative(_minutes_until(card.start, now))
        when = date_token(card.start, fmt="{time}")
    topic = _topic(card)
    blocks: list[Block] = [
        _section(REMINDER_TEXT.format(topic=topic, relative=relative, when=when)),
    ]
    if card.invitee_ids:
        blocks.append(_context(CARD_INVITEES.format(invitees=_mentions(card.invitee_ids))))
    blocks.append(ActionsBlock(elements=[_join_button(card)]))
    fallback = REMINDER_FALLBACK.format(topic=topic, relative=relative, url=escape(card.join_url))
    return _message(fallback, blocks)


def render_thread_started(card: CardView, participants: int | None) -> Message:
    """Thread reply under the card when the meeting starts, with Join."""
    topic = _topic(card)
    text = THREAD_STARTED.format(topic=topic, participants=_participants(participants))
    blocks: list[Block] = [_section(text), ActionsBlock(elements=[_join_button(card)])]
    fallback = THREAD_STARTED_FALLBACK.format(topic=topic, url=escape(card.join_url))
    return _message(fallback, blocks)


def render_thread_ended(card: CardView, lasted_minutes: int) -> Message:
    """Thread reply under the card when the meeting ends."""
    topic = _topic(card)
    duration = format_duration(lasted_minutes)
    blocks: list[Block] = [_section(THREAD_ENDED.format(topic=topic, duration=duration))]
    return _message(THREAD_ENDED_FALLBACK.format(topic=topic, duration=duration), blocks)


def render_cancelled_notice(card: CardView) -> Message:
    """Says a meeting was cancelled (thread reply or the canceller's confirmation)."""
    topic = _topic(card)
    by = "" if card.cancelled_by is None else CANCELLED_BY.format(user=_mention(card.cancelled_by))
    when = FALLBACK_INSTANT if card.start is None else date_token(card.start)
    blocks: list[Block] = [_section(CANCELLED_NOTICE.format(topic=topic, when=when, by=by))]
    return _message(CANCELLED_NOTICE_FALLBACK.format(topic=topic, by=by), blocks)


def _list_item(card: CardView, now: datetime) -> SectionBlock:
    if card.state is CardState.LIVE:
        when = LIST_LIVE
    elif card.start is None:
        when = FALLBACK_INSTANT
    else:
        when = date_token(card.start)
        minutes = _minutes_until(card.start, now)
        if abs(minutes) < 24 * 60:
            when += f" ({_relative(minutes)})"
    text = LIST_ITEM.format(
        topic=_topic(card),
        when=when,
        duration=format_duration(card.duration_minutes),
        meeting_id=_meeting_id(card),
    )
    return _section(text, accessory=_join_button(card))


def render_list(cards: Sequence[CardView], *, now: datetime) -> Message:
    """Ephemeral: the caller's upcoming meetings (first LIST_MAX, in the order given)."""
    if not cards:
        return _message(LIST_FALLBACK.format(count=0), [_section(LIST_EMPTY)])
    blocks: list[Block] = [_header(LIST_TITLE)]
    blocks += [_list_item(card, now) for card in cards[:LIST_MAX]]
    if len(cards) > LIST_MAX:
        blocks.append(_context(LIST_MORE.format(count=len(cards) - LIST_MAX)))
    blocks.append(_context(escape(LIST_FOOTER)))
    return _message(LIST_FALLBACK.format(count=len(cards)), blocks)


# --- Answers to commands -----------------------------------------------------------------------


def render_error(problem: str, example: str) -> Message:
    """Ephemeral: what was wrong with the command, and a correct example."""
    problem_text = _user_text(problem, 1000)
    text = ERROR_TEXT.format(problem=problem_text, example=_user_text(example, 1000))
    return _message(problem_text, [_section(text)])


def render_no_time_found(topic: str) -> Message:
    """Ephemeral: no time in the text; offers Start now (value: the raw topic) and an example."""
    shown = _user_text(topic, TOPIC_BUDGET)
    blocks: list[Block] = [
        _section(NO_TIME_TEXT.format(topic=shown)),
        ActionsBlock(
            elements=[
                _button(
                    START_NOW_LABEL,
                    START_NOW,
                    value=_clip(topic, BUTTON_VALUE_MAX) or None,
                    style="primary",
                )
            ]
        ),
        _context(NO_TIME_EXAMPLE.format(topic=shown)),
    ]
    return _message(NO_TIME_FALLBACK.format(topic=shown), blocks)


def render_help(is_admin: bool) -> Message:
    """Ephemeral: the /meet commands (admin ones for admins)."""
    blocks: list[Block] = [
        _header(HELP_TITLE),
        _section(escape(HELP_TEXT)),
        _context(escape(HELP_TIMES)),
    ]
    if is_admin:
        blocks.append(_section(escape(HELP_ADMIN)))
    return _message(HELP_FALLBACK, blocks)


def _mode_label(mode: str) -> str:
    return _user_text(dict(MAPPING_MODES).get(mode, mode), 64)


def render_whoami(
    user_id: str, third_party_id: str | None, mode: str, problem: str | None
) -> Message:
    """Ephemeral: who the caller is to the meeting service, or why they are nobody yet."""
    lines = [WHOAMI_USER.format(user=_mention(user_id), mode=_mode_label(mode))]
    if third_party_id is not None:
        shown = _user_text(third_party_id)
        lines.append(WHOAMI_ID.format(third_party_id=shown))
        fallback = WHOAMI_FALLBACK.format(third_party_id=shown)
    else:
        fallback = WHOAMI_FALLBACK_NONE
        lines.append(
            fallback if problem is None else WHOAMI_NONE.format(problem=_user_text(problem, 1000))
        )
    return _message(fallback, [_section("\n".join(lines))])


def render_not_mapped(reason: NotMappedReason) -> Message:
    """Ephemeral: the caller has no meeting user yet, and exactly what to ask an admin."""
    text = escape(NOT_MAPPED_TEXT[reason])
    return _message(text, [_section(text)])


def render_not_allowed(action: str, *, who: str = NOT_ALLOWED_WHO) -> Message:
    """Ephemeral: e.g. render_not_allowed("cancel this meeting")."""
    text = NOT_ALLOWED_TEXT.format(who=_user_text(who), action=_user_text(action))
    return _message(text, [_section(text)])


def render_vendor_error(user_message: str) -> Message:
    """Ephemeral: the meeting service refused; `user_message` from MeetingServiceError."""
    text = VENDOR_ERROR.format(message=_user_text(user_message, 1000))
    return _message(text, [_section(text)])


def render_failure(user_message: str) -> Message:
    """Ephemeral: meetbot itself failed (not the meeting service) and undid what it began."""
    text = FAILURE.format(message=_user_text(user_message, 1000))
    return _message(text, [_section(text)])


def render_working(text: str) -> Message:
    """Ephemeral placeholder while a slow call runs, e.g. "Creating your meeting…"."""
    shown = WORKING.format(text=_user_text(text, 1000))
    return _message(shown, [_context(shown)])


def render_done(text: str, *, user_id: str | None = None) -> Message:
    """Ephemeral confirmation, e.g. of an admin command ("@ana now uses ana@example.com").

    `user_id`, when given, is mentioned before the (escaped) text.
    """
    body = _user_text(text, 1000)
    shown = DONE.format(text=f"{_mention(user_id)} {body}" if user_id else body)
    return _message(shown, [_section(shown)])


def _chunks(lines: Sequence[str], limit: int) -> list[list[str]]:
    """Consecutive lines grouped so that each group, newline-joined, stays within `limit`."""
    chunks: list[list[str]] = []
    used = limit
    for line in lines:
        if used + 1 + _units(line) > limit:
            chunks.append([])
            used = -1
        chunks[-1].append(line)
        used += 1 + _units(line)
    return chunks


def render_mappings(
    rows: Sequence[tuple[str, str]], *, page: int, pages: int, mode: str
) -> Message:
    """Ephemeral, admins: one page of (Slack user ID, meeting user ID) rows with Prev/Next."""
    status = MAPPINGS_STATUS.format(mode=_mode_label(mode), page=page, pages=pages)
    blocks: list[Block] = [_header(MAPPINGS_TITLE), _context(status)]
    if not rows:
        blocks.append(_section(escape(MAPPINGS_EMPTY)))
    lines = [
        MAPPINGS_ROW.format(user=_mention(user_id), third_party_id=_user_text(third_party_id))
        for user_id, third_party_id in rows
    ]
    # Two blocks stay free: the "more" note and the pager.
    sections = _chunks(lines, SECTION_TEXT_MAX)[: MAX_BLOCKS - len(blocks) - 2]
    blocks += [_section("\n".join(chunk)) for chunk in sections]
    shown = sum(len(chunk) for chunk in sections)
    if shown < len(rows):
        blocks.append(_context(MAPPINGS_MORE.format(count=len(rows) - shown)))
    pager = []
    if page > 1:
        pager.append(_button(PREV_LABEL, MAPPINGS_PAGE_PREV, value=str(page - 1)))
    if page < pages:
        pager.append(_button(NEXT_LABEL, MAPPINGS_PAGE_NEXT, value=str(page + 1)))
    if pager:
        blocks.append(ActionsBlock(elements=pager))
    return _message(MAPPINGS_FALLBACK.format(page=page, pages=pages), blocks)


# --- Modals ------------------------------------------------------------------------------------


def render_schedule_modal(
    *, topic: str = "", initial_epoch: int | None, private_metadata: str
) -> dict[str, Any]:
    """The views.open payload of the scheduling form (the picker shows the viewer's zone)."""
    durations = [_option(str(m), format_duration(m)) for m in DURATION_CHOICES]
    recurrences = [_option(value, label) for value, label in RECURRENCE_CHOICES]
    blocks: list[Block] = [
        InputBlock(
            block_id=SCHEDULE_TOPIC,
            label=SCHEDULE_TOPIC_LABEL,
            element=PlainTextInputElement(
                action_id=SCHEDULE_TOPIC,
                # An input shows its value literally, so the raw topic goes in, not escaped.
                initial_value=_clip(topic, TOPIC_MAX_LENGTH) or None,
                max_length=TOPIC_MAX_LENGTH,
                placeholder=SCHEDULE_TOPIC_PLACEHOLDER,
            ),
        ),
        InputBlock(
            block_id=SCHEDULE_START,
            label=SCHEDULE_START_LABEL,
            element=DateTimePickerElement(
                action_id=SCHEDULE_START, initial_date_time=initial_epoch
            ),
        ),
        InputBlock(
            block_id=SCHEDULE_DURATION,
            label=SCHEDULE_DURATION_LABEL,
            element=StaticSelectElement(
                action_id=SCHEDULE_DURATION,
                options=durations,
                initial_option=durations[DURATION_CHOICES.index(DEFAULT_DURATION)],
            ),
        ),
        InputBlock(
            block_id=SCHEDULE_INVITEES,
            label=SCHEDULE_INVITEES_LABEL,
            optional=True,
            hint=SCHEDULE_INVITEES_HINT,
            element=UserMultiSelectElement(
                action_id=SCHEDULE_INVITEES,
                placeholder=SCHEDULE_INVITEES_PLACEHOLDER,
                max_selected_items=MAX_INVITEES,
            ),
        ),
        InputBlock(
            block_id=SCHEDULE_RECURRENCE,
            label=SCHEDULE_RECURRENCE_LABEL,
            element=StaticSelectElement(
                action_id=SCHEDULE_RECURRENCE,
                options=recurrences,
                initial_option=recurrences[0],
            ),
        ),
    ]
    view = View(
        type="modal",
        callback_id=SCHEDULE_MODAL,
        title=PlainTextObject(text=SCHEDULE_TITLE),
        submit=PlainTextObject(text=SCHEDULE_SUBMIT),
        close=PlainTextObject(text=MODAL_CLOSE),
        private_metadata=private_metadata,
        blocks=blocks,
    )
    return view.to_dict()


def render_admin_setup_modal(
    *, app_id: str, corp_id: str, mode: str, private_metadata: str, key_unreadable: bool = False
) -> dict[str, Any]:
    """The views.open payload of workspace setup. The app key is never prefilled; when the
    stored one cannot be read (`key_unreadable`) the form says so and asks for it again."""
    modes = [_option(value, label) for value, label in MAPPING_MODES]
    initial_mode = next((option for option in modes if option.value == mode), None)
    has_app = bool(app_id) and not key_unreadable
    warning: list[Block] = [_section(ADMIN_KEY_UNREADABLE)] if key_unreadable else []
    blocks: list[Block] = [
        *warning,
        _context(escape(ADMIN_INTRO)),
        InputBlock(
            block_id=ADMIN_APP_ID,
            label=ADMIN_APP_ID_LABEL,
            element=PlainTextInputElement(action_id=ADMIN_APP_ID, initial_value=app_id or None),
        ),
        InputBlock(
            block_id=ADMIN_APP_KEY,
            label=ADMIN_APP_KEY_LABEL,
            optional=has_app,
            hint=ADMIN_APP_KEY_HINT_KEEP if has_app else ADMIN_APP_KEY_HINT_NEW,
            element=PlainTextInputElement(action_id=ADMIN_APP_KEY),
        ),
        InputBlock(
            block_id=ADMIN_CORP_ID,
            label=ADMIN_CORP_ID_LABEL,
            optional=True,
            hint=ADMIN_CORP_ID_HINT,
            element=PlainTextInputElement(action_id=ADMIN_CORP_ID, initial_value=corp_id or None),
        ),
        InputBlock(
            block_id=ADMIN_MODE,
            label=ADMIN_MODE_LABEL,
            element=StaticSelectElement(
                action_id=ADMIN_MODE, options=modes, initial_option=initial_mode or modes[0]
            ),
        ),
    ]
    view = View(
        type="modal",
        callback_id=ADMIN_SETUP_MODAL,
        title=PlainTextObject(text=ADMIN_TITLE),
        submit=PlainTextObject(text=ADMIN_SUBMIT),
        close=PlainTextObject(text=MODAL_CLOSE),
        private_metadata=private_metadata,
        blocks=blocks,
    )
    return view.to_dict()


def read_schedule_modal(view: dict[str, Any], *, now: datetime) -> ScheduleForm | dict[str, str]:
    """The scheduling modal's submission, or errors by block_id for `response_action: errors`."""
    values: dict[str, dict[str, dict[str, Any]]] = view.get("state", {}).get("values", {})

    def field(block_id: str) -> dict[str, Any]:
        return values.get(block_id, {}).get(block_id, {})

    def selected(block_id: str) -> str | None:
        option = field(block_id).get("selected_option")
        return str(option["value"]) if option else None

    errors: dict[str, str] = {}
    topic = (field(SCHEDULE_TOPIC).get("value") or "").strip()
    if not topic:
        errors[SCHEDULE_TOPIC] = FORM_TOPIC_EMPTY
    elif len(topic) > TOPIC_MAX_LENGTH:
        errors[SCHEDULE_TOPIC] = FORM_TOPIC_LONG
    epoch = field(SCHEDULE_START).get("selected_date_time")
    start = None if epoch is None else datetime.fromtimestamp(int(epoch), UTC)
    if start is None:
        errors[SCHEDULE_START] = FORM_START_MISSING
    elif start < now - PAST_GRACE:
        errors[SCHEDULE_START] = FORM_START_PAST
    elif start > now + MAX_AHEAD:
        errors[SCHEDULE_START] = FORM_START_FAR
    duration = selected(SCHEDULE_DURATION)
    if duration not in {str(minutes) for minutes in DURATION_CHOICES}:
        errors[SCHEDULE_DURATION] = FORM_DURATION
    invitee_ids = tuple(field(SCHEDULE_INVITEES).get("selected_users") or ())
    if len(invitee_ids) > MAX_INVITEES:  # the select stops at MAX_INVITEES; a forged one may not
        errors[SCHEDULE_INVITEES] = FORM_INVITEES
    recurrence = selected(SCHEDULE_RECURRENCE) or "none"
    if recurrence not in dict(RECURRENCE_CHOICES):
        errors[SCHEDULE_RECURRENCE] = FORM_RECURRENCE
    if errors or start is None or duration is None:
        return errors
    return ScheduleForm(
        topic=topic,
        start=start,
        duration_minutes=int(duration),
        invitee_ids=invitee_ids,
        recurrence=None if recurrence == "none" else recurrence,
    )
