"""The modals: the scheduling form and the workspace setup form, each rendered (views.open
payload) and read back (its view_submission) side by side.

The form's limits and checks are bot/rules.py's, as the /meet grammar's are: a form accepts what
the command accepts, and only the wording of a problem is the form's own. Pure: `now` is an
argument.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from slack_sdk.models.blocks import (
    Block,
    DateTimePickerElement,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.rules import (
    DEFAULT_DURATION_MINUTES,
    MAX_INVITEES,
    MAX_TOPIC_LENGTH,
    ErrorKind,
    Frequency,
    MappingMode,
    duration_problem,
    invitees_problem,
    start_problem,
    topic_problem,
)
from bot.slack.blocks.common import (
    MAPPING_MODES,
    clip,
    context,
    escape,
    format_duration,
    option,
    section,
)
from bot.slack.blocks.ids import (
    ADMIN_APP_ID,
    ADMIN_APP_KEY,
    ADMIN_CORP_ID,
    ADMIN_MODE,
    ADMIN_SETUP_MODAL,
    SCHEDULE_DURATION,
    SCHEDULE_INVITEES,
    SCHEDULE_MODAL,
    SCHEDULE_RECURRENCE,
    SCHEDULE_START,
    SCHEDULE_TOPIC,
)

__all__ = [
    "DURATION_CHOICES",
    "PRIVATE_METADATA_MAX",
    "RECURRENCE_CHOICES",
    "AdminSetupForm",
    "ModalOrigin",
    "ScheduleForm",
    "origin_metadata",
    "read_admin_setup_modal",
    "read_origin",
    "read_schedule_modal",
    "render_admin_setup_modal",
    "render_schedule_modal",
]

DURATION_CHOICES: Final = (15, 30, 45, 60, 90, 120, 180, 240)
"""Minutes offered by the modal, DEFAULT_DURATION_MINUTES first selected; the option value is
str(minutes). All pass bot.rules.duration_problem (tests/slack/test_forms.py holds it)."""
RECURRENCE_CHOICES: Final = (
    ("none", "Does not repeat"),
    (Frequency.DAILY.value, "Every day"),
    (Frequency.WEEKDAYS.value, "Every weekday"),
    (Frequency.WEEKLY.value, "Every week"),
    (Frequency.MONTHLY.value, "Every month"),
)
"""(option value, label) of the modal's recurrence select."""

# --- Copy --------------------------------------------------------------------------------------

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
FORM_TOPIC_LONG: Final = f"Keep the topic to {MAX_TOPIC_LENGTH} characters."
FORM_START_MISSING: Final = "Pick a start time."
FORM_START_PAST: Final = "Pick a time in the future."
FORM_START_FAR: Final = "Pick a time within the next year."
FORM_START_PROBLEMS: Final = {
    ErrorKind.PAST_TIME: FORM_START_PAST,
    ErrorKind.TOO_FAR_AHEAD: FORM_START_FAR,
}
"""The form's words for each answer of bot.rules.start_problem."""
FORM_DURATION: Final = "Pick a duration."
FORM_INVITEES: Final = f"Pick at most {MAX_INVITEES} people."
FORM_RECURRENCE: Final = "Pick how it repeats."


@dataclass(frozen=True, slots=True)
class ScheduleForm:
    """A valid submission of the scheduling modal. `topic` is raw text, as the user typed it."""

    topic: str
    start: datetime
    duration_minutes: int
    invitee_ids: tuple[str, ...]
    recurrence: str | None
    """A value of RECURRENCE_CHOICES other than "none", or None."""


@dataclass(frozen=True, slots=True)
class AdminSetupForm:
    """A submission of the workspace setup modal, trimmed; empty optional fields are None."""

    app_id: str
    app_key: str | None
    """None keeps the stored key."""
    corp_id: str | None
    mode: str


def _values(view: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    values: dict[str, dict[str, dict[str, Any]]] = view.get("state", {}).get("values", {})
    return values


def _field(values: dict[str, dict[str, dict[str, Any]]], block_id: str) -> dict[str, Any]:
    """The state of the input `block_id` (each input uses its block_id as its action_id)."""
    return values.get(block_id, {}).get(block_id, {})


def _selected(values: dict[str, dict[str, dict[str, Any]]], block_id: str) -> str | None:
    chosen = _field(values, block_id).get("selected_option")
    return str(chosen["value"]) if chosen else None


PRIVATE_METADATA_MAX: Final = 3000
"""Slack's limit on a view's private_metadata."""
_CONVERSATION_ID: Final = re.compile(r"[A-Z0-9]{1,40}")


@dataclass(frozen=True, slots=True)
class ModalOrigin:
    """Where a modal was opened from (kept in its private_metadata): the conversation, and
    the command's response_url to answer the organizer privately through ("" if none)."""

    channel_id: str = ""
    response_url: str = ""


def origin_metadata(origin: ModalOrigin) -> str:
    """The private_metadata of a modal opened from `origin`, within Slack's 3000 characters
    (a response_url that would not fit is left out: the answer then goes by the app's DM)."""
    for kept in (origin, ModalOrigin(origin.channel_id)):
        text = json.dumps({"c": kept.channel_id, "r": kept.response_url}, separators=(",", ":"))
        if len(text) <= PRIVATE_METADATA_MAX:
            return text
    return ""


def read_origin(text: str) -> ModalOrigin:
    """A submitted modal's origin, read from its private_metadata. It came back from Slack but
    is treated as untrusted: anything malformed reads as "unknown" (the empty origin), and a
    response_url is still checked before use (bot.slack.notifier.is_slack_response_url)."""
    if len(text) > PRIVATE_METADATA_MAX:
        return ModalOrigin()
    if _CONVERSATION_ID.fullmatch(text):
        return ModalOrigin(text)  # a form opened before the origin became JSON: its channel
    try:
        data = json.loads(text)
    except ValueError:
        return ModalOrigin()
    if not isinstance(data, dict):
        return ModalOrigin()
    channel, url = data.get("c"), data.get("r")
    return ModalOrigin(
        channel if isinstance(channel, str) and _CONVERSATION_ID.fullmatch(channel) else "",
        url if isinstance(url, str) else "",
    )


def _modal(
    callback_id: str, title: str, submit: str, private_metadata: str, blocks: list[Block]
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text=MODAL_CLOSE),
        private_metadata=private_metadata,
        blocks=blocks,
    )
    return view.to_dict()


# --- The scheduling form -----------------------------------------------------------------------


def render_schedule_modal(
    *, topic: str = "", initial_epoch: int | None, private_metadata: str
) -> dict[str, Any]:
    """The views.open payload of the scheduling form (the picker shows the viewer's zone)."""
    durations = [option(str(m), format_duration(m)) for m in DURATION_CHOICES]
    recurrences = [option(value, label) for value, label in RECURRENCE_CHOICES]
    blocks: list[Block] = [
        InputBlock(
            block_id=SCHEDULE_TOPIC,
            label=SCHEDULE_TOPIC_LABEL,
            element=PlainTextInputElement(
                action_id=SCHEDULE_TOPIC,
                # An input shows its value literally, so the raw topic goes in, not escaped.
                initial_value=clip(topic, MAX_TOPIC_LENGTH) or None,
                max_length=MAX_TOPIC_LENGTH,
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
                initial_option=durations[DURATION_CHOICES.index(DEFAULT_DURATION_MINUTES)],
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
    return _modal(SCHEDULE_MODAL, SCHEDULE_TITLE, SCHEDULE_SUBMIT, private_metadata, blocks)


def read_schedule_modal(view: dict[str, Any], *, now: datetime) -> ScheduleForm | dict[str, str]:
    """The scheduling modal's submission, or errors by block_id for `response_action: errors`."""
    values = _values(view)
    errors: dict[str, str] = {}
    topic = (_field(values, SCHEDULE_TOPIC).get("value") or "").strip()
    if not topic:
        errors[SCHEDULE_TOPIC] = FORM_TOPIC_EMPTY
    elif topic_problem(topic) is not None:
        errors[SCHEDULE_TOPIC] = FORM_TOPIC_LONG
    epoch = _field(values, SCHEDULE_START).get("selected_date_time")
    start = None if epoch is None else datetime.fromtimestamp(int(epoch), UTC)
    if start is None:
        errors[SCHEDULE_START] = FORM_START_MISSING
    # The grammar's window suits the picker too: it has minute resolution, and the current
    # minute is not "in the past".
    elif (problem := start_problem(start, now)) is not None:
        errors[SCHEDULE_START] = FORM_START_PROBLEMS[problem]
    duration = _selected(values, SCHEDULE_DURATION)
    offered = {str(minutes) for minutes in DURATION_CHOICES}
    if duration not in offered or duration_problem(int(duration)) is not None:
        errors[SCHEDULE_DURATION] = FORM_DURATION
    invitee_ids = tuple(_field(values, SCHEDULE_INVITEES).get("selected_users") or ())
    # The select stops at MAX_INVITEES; a forged submission may not.
    if invitees_problem(len(invitee_ids)) is not None:
        errors[SCHEDULE_INVITEES] = FORM_INVITEES
    recurrence = _selected(values, SCHEDULE_RECURRENCE) or "none"
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


# --- The workspace setup form ------------------------------------------------------------------


def render_admin_setup_modal(
    *, app_id: str, corp_id: str, mode: str, private_metadata: str, key_unreadable: bool = False
) -> dict[str, Any]:
    """The views.open payload of workspace setup. The app key is never prefilled; when the
    stored one cannot be read (`key_unreadable`) the form says so and asks for it again."""
    modes = [option(value, label) for value, label in MAPPING_MODES]
    initial_mode = next((choice for choice in modes if choice.value == mode), None)
    has_app = bool(app_id) and not key_unreadable
    warning: list[Block] = [section(ADMIN_KEY_UNREADABLE)] if key_unreadable else []
    blocks: list[Block] = [
        *warning,
        context(escape(ADMIN_INTRO)),
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
    return _modal(ADMIN_SETUP_MODAL, ADMIN_TITLE, ADMIN_SUBMIT, private_metadata, blocks)


def read_admin_setup_modal(view: dict[str, Any]) -> AdminSetupForm:
    """The setup modal's submission; the service checks the values themselves."""
    values = _values(view)

    def text(block_id: str) -> str:
        value = _field(values, block_id).get("value")
        return str(value).strip() if value else ""

    mode = _selected(values, ADMIN_MODE)
    return AdminSetupForm(
        app_id=text(ADMIN_APP_ID),
        app_key=text(ADMIN_APP_KEY) or None,
        corp_id=text(ADMIN_CORP_ID) or None,
        mode=MappingMode.EMAIL.value if mode is None else mode,
    )
