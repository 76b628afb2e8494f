"""All Block Kit of meetbot, one module per surface; import from here.

- `cards`: the meeting card and what follows it (host details, invitation, reminders, thread
  notices, the cancelled notice) and `/meet list`;
- `forms`: the scheduling and workspace setup modals, each with its reader;
- `admin`: the user-mappings page and admin confirmations;
- `answers`: help and errors (no time found, not mapped, not allowed, failures, whoami);
- `ids`: the action_ids and callback_ids shared by rendering and registration;
- `common`: the Message shape, Slack's limits, escaping and block helpers.
"""

from __future__ import annotations

from bot.slack.blocks.admin import render_done, render_mappings
from bot.slack.blocks.answers import (
    NotMappedReason,
    render_error,
    render_failure,
    render_help,
    render_no_time_found,
    render_not_allowed,
    render_not_mapped,
    render_vendor_error,
    render_whoami,
    render_working,
)
from bot.slack.blocks.cards import (
    CardState,
    CardView,
    render_cancelled_notice,
    render_card,
    render_host_details,
    render_invite_dm,
    render_list,
    render_reminder,
    render_thread_ended,
    render_thread_started,
)
from bot.slack.blocks.common import (
    MAPPING_MODES,
    Message,
    date_token,
    escape,
    format_duration,
    format_meeting_id,
)
from bot.slack.blocks.forms import (
    DURATION_CHOICES,
    RECURRENCE_CHOICES,
    AdminSetupForm,
    ScheduleForm,
    read_admin_setup_modal,
    read_schedule_modal,
    render_admin_setup_modal,
    render_schedule_modal,
)
from bot.slack.blocks.ids import (
    ADMIN_APP_ID,
    ADMIN_APP_KEY,
    ADMIN_CORP_ID,
    ADMIN_MODE,
    ADMIN_SETUP_MODAL,
    CANCEL,
    HOST_JOIN,
    JOIN,
    MAPPINGS_PAGE,
    MAPPINGS_PAGE_NEXT,
    MAPPINGS_PAGE_PREV,
    SCHEDULE_DURATION,
    SCHEDULE_INVITEES,
    SCHEDULE_MODAL,
    SCHEDULE_RECURRENCE,
    SCHEDULE_START,
    SCHEDULE_TOPIC,
    START_NOW,
)

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
    "AdminSetupForm",
    "CardState",
    "CardView",
    "Message",
    "NotMappedReason",
    "ScheduleForm",
    "date_token",
    "escape",
    "format_duration",
    "format_meeting_id",
    "read_admin_setup_modal",
    "read_schedule_modal",
    "render_admin_setup_modal",
    "render_cancelled_notice",
    "render_card",
    "render_done",
    "render_error",
    "render_failure",
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
