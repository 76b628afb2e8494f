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
    ActionsBlock,
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
from bot.slack.blocks.answers import read_reading
from bot.slack.blocks.common import (
    MAPPING_MODES,
    Message,
    as_message,
    button,
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
    OPEN_FORM,
    SCHEDULE_DURATION,
    SCHEDULE_INVITEES,
    SCHEDULE_MODAL,
    SCHEDULE_RECURRENCE,
    SCHEDULE_START,
    SCHEDULE_TOPIC,
)

__all__ = [
    "DURATION_CHOICES",
    "FORM_FAILED_NOTICE",
    "PRIVATE_METADATA_MAX",
    "RECURRENCE_CHOICES",
    "AdminSetupForm",
    "ModalOrigin",
    "ScheduleForm",
    "origin_metadata",
    "read_admin_setup_modal",
    "read_origin",
    "read_schedule_modal",
    "render_admin_setup_denied",
    "render_admin_setup_loading",
    "render_admin_setup_modal",
    "render_form_notice",
    "render_form_retry",
    "render_reading_form",
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

ADMIN_LOADING: Final = ":hourglass_flowing_sand: Loading this workspace's current setup…"
ADMIN_DENIED: Final = (
    ":no_entry: Only workspace admins can change the meeting-service setup. "
    "Ask one of them to run `/meet admin setup`."
)
FORM_FAILED_NOTICE: Final = (
    "This form could not be filled in; meetbot sent you a message saying why. Close this window."
)
FORM_RETRY_TEXT: Final = (
    "Slack did not let meetbot open the form in time (this happens when meetbot is slow to "
    "answer). Press the button to open it now."
)
FORM_RETRY_BUTTON: Final = "Open the form"

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


def _notice(callback_id: str, title: str, private_metadata: str, text: str) -> dict[str, Any]:
    """A modal that only shows `text` (mrkdwn, already escaped): no submit button."""
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title),
        close=PlainTextObject(text=MODAL_CLOSE),
        private_metadata=private_metadata,
        blocks=[section(text)],
    )
    return view.to_dict()


def render_form_retry(form_text: str) -> Message:
    """Ephemeral: the form could not be opened (expired trigger); its button opens it again
    (a button press brings a fresh trigger_id). `form_text` is the /meet text of the form."""
    return as_message(
        FORM_RETRY_TEXT,
        [
            section(FORM_RETRY_TEXT),
            ActionsBlock(
                elements=[button(FORM_RETRY_BUTTON, OPEN_FORM, value=form_text, style="primary")]
            ),
        ],
    )


def render_form_notice(*, callback_id: str, title: str, text: str) -> dict[str, Any]:
    """A form's window showing an answer instead of the form (e.g. not allowed): `text` is
    mrkdwn, already escaped (a rendered Message's text)."""
    return _notice(callback_id, title, "", text)


# --- The scheduling form -----------------------------------------------------------------------


def render_reading_form(value: str, *, private_metadata: str) -> dict[str, Any]:
    """The scheduling form prefilled from an "Open the form" button's value (topic, start,
    duration, invitees); an unreadable value (it comes from the user) opens it empty."""
    request = read_reading(value)
    if request is None:
        return render_schedule_modal(initial_epoch=None, private_metadata=private_metadata)
    return render_schedule_modal(
        topic=request.topic,
        initial_epoch=int(request.start.timestamp()),
        duration_minutes=request.duration_minutes,
        invitees=request.invitees,
        private_metadata=private_metadata,
    )


def render_schedule_modal(
    *,
    topic: str = "",
    initial_epoch: int | None,
    private_metadata: str,
    duration_minutes: int = DEFAULT_DURATION_MINUTES,
    invitees: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The views.open payload of the scheduling form (the picker shows the viewer's zone); a
    duration the form does not offer leaves its usual one selected."""
    durations = [option(str(m), format_duration(m)) for m in DURATION_CHOICES]
    chosen = duration_minutes if duration_minutes in DURATION_CHOICES else DEFAULT_DURATION_MINUTES
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
                initial_option=durations[DURATION_CHOICES.index(chosen)],
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
                initial_users=list(invitees[:MAX_INVITEES]) or None,
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


def render_admin_setup_loading(*, private_metadata: str) -> dict[str, Any]:
    """What views.open shows at once for workspace setup, before the current values (and the
    user's admin rights) are read; views.update then shows the form or why it cannot."""
    return _notice(ADMIN_SETUP_MODAL, ADMIN_TITLE, private_metadata, ADMIN_LOADING)


def render_admin_setup_denied() -> dict[str, Any]:
    """Workspace setup's window for someone who is not a workspace admin."""
    return render_form_notice(callback_id=ADMIN_SETUP_MODAL, title=ADMIN_TITLE, text=ADMIN_DENIED)


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
