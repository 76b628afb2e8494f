"""What every surface shares: the Message shape, Slack's limits, escaping and block helpers.

The one place where user text is escaped for Slack (`escape`, `user_text`). Pure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
)

from bot.rules import MappingMode

__all__ = [
    "BUTTON_VALUE_MAX",
    "DATE_FORMAT",
    "ELLIPSIS",
    "INVITEES_BUDGET",
    "INVITEES_MORE",
    "MAPPING_MODES",
    "MAX_BLOCKS",
    "SECTION_TEXT_MAX",
    "SHORT_BUDGET",
    "TOPIC_BUDGET",
    "Message",
    "as_message",
    "button",
    "clip",
    "context",
    "date_token",
    "escape",
    "format_duration",
    "format_meeting_id",
    "header",
    "md",
    "mention",
    "mentions",
    "mode_label",
    "option",
    "section",
    "units",
    "user_text",
    "utc_text",
]

Message = dict[str, Any]
"""`{"text": fallback, "blocks": [...]}`: splat into chat.postMessage, chat.update or respond()."""

MAPPING_MODES: Final = (
    (MappingMode.EMAIL.value, "Slack profile email"),
    (MappingMode.SLACK.value, "Slack IDs (TEAM-USER)"),
    (MappingMode.EXPLICIT.value, "Only users an admin mapped"),
)
"""(mode, label) of each of the workspace's user-mapping modes (bot.rules.MappingMode)."""

# --- Slack limits (characters; counted in UTF-16 units to be safe for wide characters) ---------

MAX_BLOCKS: Final = 50
SECTION_TEXT_MAX: Final = 3000
TOPIC_BUDGET: Final = 700
"""Room for an escaped topic: MAX_TOPIC_LENGTH (128) characters of `&` become 640."""
SHORT_BUDGET: Final = 200
INVITEES_BUDGET: Final = 1500
BUTTON_VALUE_MAX: Final = 2000

# --- Copy --------------------------------------------------------------------------------------

DATE_FORMAT: Final = "{date_short_pretty} at {time}"
ELLIPSIS: Final = "…"
INVITEES_MORE: Final = " and {count} more"

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

# --- Text helpers ------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Make user text inert in mrkdwn: only `&`, `<`, `>` are replaced, as Slack asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def units(text: str) -> int:
    """Length in UTF-16 units, as Slack counts."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` UTF-16 units (never splits a character)."""
    if units(text) <= limit:
        return text
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def _fit(escaped: str, limit: int) -> str:
    """Shorten escaped text to `limit` with an ellipsis, never cutting an `&…;` entity in two."""
    if units(escaped) <= limit:
        return escaped
    cut = clip(escaped, limit - 1)
    amp = cut.rfind("&", max(0, len(cut) - 4))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ELLIPSIS


def user_text(text: str, budget: int = SHORT_BUDGET) -> str:
    """User text made inert and shortened to `budget`."""
    return _fit(escape(text), budget)


def mention(user_id: str) -> str:
    """A Slack mention for a well-formed user ID; anything else is shown as inert text."""
    if _USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    return user_text(user_id, 64)


def mentions(user_ids: Sequence[str], budget: int = INVITEES_BUDGET) -> str:
    """Mentions of `user_ids` within `budget`, and how many more did not fit."""
    shown: list[str] = []
    used = 0
    for user_id in user_ids:
        one = mention(user_id)
        if used + units(one) + 2 > budget:
            break
        shown.append(one)
        used += units(one) + 2
    text = ", ".join(shown)
    if len(shown) < len(user_ids):
        text += INVITEES_MORE.format(count=len(user_ids) - len(shown))
    return text


def mode_label(mode: str) -> str:
    """The label of a user-mapping mode (an unknown one shown inert)."""
    return user_text(dict(MAPPING_MODES).get(mode, mode), 64)


def utc_text(dt: datetime) -> str:
    """`Thu, Dec 24 at 14:00 UTC`: the fallback wherever a date token cannot render."""
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
    return f"<!date^{math.floor(dt.timestamp())}^{fmt}|{utc_text(dt)}>"


# --- Block helpers -----------------------------------------------------------------------------


def md(text: str) -> MarkdownTextObject:
    """mrkdwn text, verbatim."""
    # verbatim: Slack would otherwise link-ify bare channel names and parse some mentions.
    return MarkdownTextObject(text=text, verbatim=True)


def section(text: str, accessory: ButtonElement | None = None) -> SectionBlock:
    return SectionBlock(text=md(text), accessory=accessory)


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[md(text)])


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=text))


def button(
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


def as_message(text: str, blocks: Sequence[Block]) -> Message:
    """`{"text", "blocks"}` within Slack's block limit."""
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks exceed Slack's {MAX_BLOCKS}")
    return {"text": text, "blocks": [block.to_dict() for block in blocks]}


def option(value: str, label: str) -> Option:
    return Option(value=value, text=PlainTextObject(text=label))
