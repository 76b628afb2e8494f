"""Meeting messages: the channel card (CardView, CardState), the organizer's host details, the
invitation DM, reminders, the thread notices (started, ended, cancelled) and `/meet list`.

Pure: each `render_*` takes what it shows (and `now` where time matters) and returns a Message.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CallBlock,
    ConfirmObject,
    PlainTextObject,
)

from bot.rules import LIST_LIMIT, MeetingState
from bot.slack.blocks.common import (
    TOPIC_BUDGET,
    Message,
    as_message,
    button,
    context,
    date_token,
    escape,
    format_duration,
    format_meeting_id,
    header,
    md,
    mention,
    mentions,
    section,
    user_text,
    utc_text,
)
from bot.slack.blocks.ids import (
    CANCEL,
    HOST_JOIN,
    JOIN,
    LIST_PAGE_NEXT,
    LIST_PAGE_PREV,
)

__all__ = [
    "CardState",
    "CardView",
    "render_cancelled_notice",
    "render_card",
    "render_duplicate",
    "render_host_details",
    "render_invite_dm",
    "render_list",
    "render_private_card",
    "render_reminder",
    "render_thread_ended",
    "render_thread_started",
]

CONFIRM_TOPIC_BUDGET: Final = 150

# --- Copy --------------------------------------------------------------------------------------

JOIN_LABEL: Final = "Join"
HOST_JOIN_LABEL: Final = "Join as host"
CANCEL_LABEL: Final = "Cancel meeting"
CANCEL_CONFIRM_TITLE: Final = "Cancel this meeting?"
CANCEL_CONFIRM_TEXT: Final = "*{topic}* will be cancelled for everyone."
CANCEL_CONFIRM_YES: Final = "Cancel meeting"
CANCEL_CONFIRM_NO: Final = "Keep it"

CARD_ORGANIZER: Final = "Organizer {organizer}"
CARD_WHEN: Final = ":calendar: {when} · {duration}"
CARD_STARTED: Final = ":zap: Started {when} · {duration}"
CARD_INSTANT: Final = ":zap: Instant meeting · {duration}"
CARD_RECURRENCE: Final = ":repeat: {recurrence}"
CARD_MEETING_ID: Final = "Meeting ID: {meeting_id}"
CARD_INVITEES: Final = "Invited: {invitees}"
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

PRIVATE_CARD_HINT: Final = (
    ":information_source: Only you can see this card: meetbot can't post in this "
    "conversation, so reminders and start/end notices come to you and your invitees by DM. "
    "Add @meetbot to a channel (`/invite @meetbot`) to have cards and reminders posted there."
)
PRIVATE_CARD_FALLBACK: Final = "{card} (only you can see this card)"

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
LIST_INVITED_BY: Final = " · invited by {organizer}"
LIST_MORE: Final = "…and {count} more not shown."
LIST_PREV: Final = "Previous"
LIST_NEXT: Final = "Next"

DUPLICATE_TEXT: Final = (
    ":raised_hand: You created *{topic}* here a moment ago, so nothing new was created "
    "(a double click or a repeated command?). It is this one:"
)
DUPLICATE_AGAIN: Final = "Create another anyway"
DUPLICATE_FALLBACK: Final = "You already created {topic} here a moment ago — join: {url}"
LIST_FOOTER: Final = "Cancel one with `/meet cancel <meeting ID>`."
LIST_FALLBACK: Final = "Your upcoming meetings: {count}"
LIST_LIVE: Final = ":red_circle: In progress"

CANCELLED_NOTICE: Final = ":no_entry_sign: *{topic}* ({when}) was cancelled{by}."
CANCELLED_NOTICE_FALLBACK: Final = "{topic} was cancelled{by}."
CANCELLED_BY: Final = " by {user}"


CardState = MeetingState
"""What the card says about the meeting's life: the meeting's own state (bot.rules)."""


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


# --- Helpers -----------------------------------------------------------------------------------


def _topic(card: CardView) -> str:
    return user_text(card.topic, TOPIC_BUDGET)


def _minutes_until(start: datetime, now: datetime) -> int:
    return math.floor((start - now).total_seconds() / 60 + 0.5)


def _relative(minutes: int) -> str:
    if minutes > 0:
        return STARTS_IN.format(duration=format_duration(minutes))
    if minutes == 0:
        return STARTING_NOW
    return STARTED_AGO.format(duration=format_duration(-minutes))


def _join_button(card: CardView) -> ButtonElement:
    return button(JOIN_LABEL, JOIN, url=card.join_url, value=str(card.meeting_id), style="primary")


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
    when = utc_text(card.start)
    return FALLBACK_STARTED.format(when=when) if card.instant else when


def _meeting_id(card: CardView) -> str:
    return user_text(format_meeting_id(card.conference_id), 64)


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
            return STATE_CANCELLED_BY.format(user=mention(card.cancelled_by))


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
        text=md(CANCEL_CONFIRM_TEXT.format(topic=user_text(card.topic, CONFIRM_TOPIC_BUDGET))),
        confirm=PlainTextObject(text=CANCEL_CONFIRM_YES),
        deny=PlainTextObject(text=CANCEL_CONFIRM_NO),
        style="danger",
    )
    return button(CANCEL_LABEL, CANCEL, value=str(card.meeting_id), style="danger", confirm=confirm)


def render_card(card: CardView) -> Message:
    """The channel card: details, live state, and Join (and Cancel while scheduled)."""
    return as_message(_card_fallback(card), _card_blocks(card))


def _card_blocks(card: CardView) -> list[Block]:
    lines = [
        f"*{_topic(card)}*",
        CARD_ORGANIZER.format(organizer=mention(card.organizer_id)),
        _when(card),
    ]
    if card.recurrence_text:
        lines.append(CARD_RECURRENCE.format(recurrence=user_text(card.recurrence_text)))
    lines.append(CARD_MEETING_ID.format(meeting_id=_meeting_id(card)))
    if card.invitee_ids:
        lines.append(CARD_INVITEES.format(invitees=mentions(card.invitee_ids)))
    blocks: list[Block] = [section("\n".join(lines)), context(_status(card))]
    if card.call_id and card.state in (CardState.SCHEDULED, CardState.LIVE):
        blocks.append(CallBlock(call_id=card.call_id))
    if card.state is CardState.SCHEDULED:
        blocks.append(ActionsBlock(elements=[_join_button(card), _cancel_button(card)]))
    elif card.state is CardState.LIVE:
        blocks.append(ActionsBlock(elements=[_join_button(card)]))
    return blocks


def render_private_card(card: CardView) -> Message:
    """The card shown only to the organizer where the bot cannot post, with how to fix that."""
    return as_message(
        PRIVATE_CARD_FALLBACK.format(card=_card_fallback(card)),
        [*_card_blocks(card), context(PRIVATE_CARD_HINT)],
    )


def render_host_details(card: CardView, host_url: str, host_password: str | None) -> Message:
    """Ephemeral, to the organizer only: the host link and host password."""
    topic = _topic(card)
    password = (
        HOST_NO_PASSWORD
        if host_password is None
        else HOST_PASSWORD.format(password=user_text(host_password, 64))
    )
    blocks: list[Block] = [
        section(
            f"{HOST_TITLE.format(topic=topic)}\n{password}",
            accessory=button(
                HOST_JOIN_LABEL,
                HOST_JOIN,
                url=host_url,
                value=str(card.meeting_id),
                style="primary",
            ),
        ),
        context(HOST_WARNING),
    ]
    return as_message(HOST_FALLBACK.format(topic=topic), blocks)


def render_invite_dm(card: CardView, inviter_id: str) -> Message:
    """A direct message to an invitee, with Join."""
    inviter = mention(inviter_id)
    topic = _topic(card)
    lines = [INVITE_TEXT.format(inviter=inviter, topic=topic), _when(card)]
    if card.recurrence_text:
        lines.append(CARD_RECURRENCE.format(recurrence=user_text(card.recurrence_text)))
    lines.append(CARD_MEETING_ID.format(meeting_id=_meeting_id(card)))
    blocks: list[Block] = [
        section("\n".join(lines)),
        ActionsBlock(elements=[_join_button(card)]),
    ]
    fallback = INVITE_FALLBACK.format(
        inviter=inviter, topic=topic, when=_when_fallback(card), url=escape(card.join_url)
    )
    return as_message(fallback, blocks)


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
        section(REMINDER_TEXT.format(topic=topic, relative=relative, when=when)),
    ]
    if card.invitee_ids:
        blocks.append(context(CARD_INVITEES.format(invitees=mentions(card.invitee_ids))))
    blocks.append(ActionsBlock(elements=[_join_button(card)]))
    fallback = REMINDER_FALLBACK.format(topic=topic, relative=relative, url=escape(card.join_url))
    return as_message(fallback, blocks)


def render_thread_started(card: CardView, participants: int | None) -> Message:
    """Thread reply under the card when the meeting starts, with Join."""
    topic = _topic(card)
    text = THREAD_STARTED.format(topic=topic, participants=_participants(participants))
    blocks: list[Block] = [section(text), ActionsBlock(elements=[_join_button(card)])]
    fallback = THREAD_STARTED_FALLBACK.format(topic=topic, url=escape(card.join_url))
    return as_message(fallback, blocks)


def render_thread_ended(card: CardView, lasted_minutes: int) -> Message:
    """Thread reply under the card when the meeting ends."""
    topic = _topic(card)
    duration = format_duration(lasted_minutes)
    blocks: list[Block] = [section(THREAD_ENDED.format(topic=topic, duration=duration))]
    return as_message(THREAD_ENDED_FALLBACK.format(topic=topic, duration=duration), blocks)


def render_cancelled_notice(card: CardView) -> Message:
    """Says a meeting was cancelled (thread reply or the canceller's confirmation)."""
    topic = _topic(card)
    by = "" if card.cancelled_by is None else CANCELLED_BY.format(user=mention(card.cancelled_by))
    when = FALLBACK_INSTANT if card.start is None else date_token(card.start)
    blocks: list[Block] = [section(CANCELLED_NOTICE.format(topic=topic, when=when, by=by))]
    return as_message(CANCELLED_NOTICE_FALLBACK.format(topic=topic, by=by), blocks)


def _list_item(card: CardView, now: datetime, *, viewer: str, may_cancel: bool) -> list[Block]:
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
    if card.organizer_id != viewer:
        text += LIST_INVITED_BY.format(organizer=mention(card.organizer_id))
    actions: list[ButtonElement] = [_join_button(card)]
    if may_cancel and card.state is CardState.SCHEDULED:
        actions.append(_cancel_button(card))
    return [section(text), ActionsBlock(elements=actions)]


def render_list(
    cards: Sequence[CardView],
    *,
    now: datetime,
    viewer: str = "",
    total: int | None = None,
    page: int = 0,
    cancellable: Collection[int] = (),
) -> Message:
    """Ephemeral: page `page` (from 0) of the upcoming meetings the viewer organizes or is
    invited to (at most LIST_LIMIT, in the order given), of `total` in all (default: as many
    as given), each with Join, and Cancel for those in `cancellable`; a pager when there are
    more."""
    total = len(cards) if total is None else total
    if not cards and page == 0:
        return as_message(LIST_FALLBACK.format(count=0), [section(LIST_EMPTY)])
    shown = cards[:LIST_LIMIT]
    blocks: list[Block] = [header(LIST_TITLE)]
    for card in shown:
        blocks += _list_item(card, now, viewer=viewer, may_cancel=card.meeting_id in cancellable)
    after = total - page * LIST_LIMIT - len(shown)
    if after > 0:
        blocks.append(context(LIST_MORE.format(count=after)))
    pager = []
    if page > 0:
        pager.append(button(LIST_PREV, LIST_PAGE_PREV, value=str(page - 1)))
    if after > 0:
        pager.append(button(LIST_NEXT, LIST_PAGE_NEXT, value=str(page + 1)))
    if pager:
        blocks.append(ActionsBlock(elements=pager))
    blocks.append(context(escape(LIST_FOOTER)))
    return as_message(LIST_FALLBACK.format(count=total), blocks)


def render_duplicate(card: CardView, *, again_action: str, again_value: str) -> Message:
    """Private: a request repeated a meeting just created, so nothing new was: that meeting's
    details with Join, and a button that creates another anyway (`again_action`, carrying
    `again_value`)."""
    topic = _topic(card)
    blocks: list[Block] = [
        section(DUPLICATE_TEXT.format(topic=topic)),
        *_card_blocks(card)[:2],
        ActionsBlock(
            elements=[_join_button(card), button(DUPLICATE_AGAIN, again_action, value=again_value)]
        ),
    ]
    fallback = DUPLICATE_FALLBACK.format(topic=topic, url=escape(card.join_url))
    return as_message(fallback, blocks)
