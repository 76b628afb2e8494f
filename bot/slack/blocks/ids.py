"""The identifiers Slack sends back to us: action_ids, callback_ids and modal input ids.

Shared by rendering (bot/slack/blocks/) and registration (bot/slack/app.py), so that a button
and the listener it reaches can never disagree.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "ADMIN_APP_ID",
    "ADMIN_APP_KEY",
    "ADMIN_CORP_ID",
    "ADMIN_MODE",
    "ADMIN_SETUP_MODAL",
    "CANCEL",
    "CREATE_ANYWAY",
    "CREATE_ANYWAY_NOW",
    "HOST_JOIN",
    "JOIN",
    "LIST_PAGE",
    "LIST_PAGE_NEXT",
    "LIST_PAGE_PREV",
    "MAPPINGS_PAGE",
    "MAPPINGS_PAGE_NEXT",
    "MAPPINGS_PAGE_PREV",
    "OPEN_FORM",
    "READING",
    "READING_FORM",
    "READING_PREFIX",
    "SCHEDULE_DURATION",
    "SCHEDULE_INVITEES",
    "SCHEDULE_MODAL",
    "SCHEDULE_RECURRENCE",
    "SCHEDULE_START",
    "SCHEDULE_TOPIC",
    "START_NOW",
]

JOIN: Final = "meet_join"
"""Join link button (url button: Slack still sends an action, which must be acked)."""
CANCEL: Final = "meet_cancel"
"""Cancel button on a scheduled card; value is str(CardView.meeting_id)."""
HOST_JOIN: Final = "meet_host_join"
"""Host link button in the organizer's ephemeral message (url button, ack only)."""
START_NOW: Final = "meet_start_now"
"""'Start now' after no time was found; value is the topic exactly as typed (not escaped)."""
OPEN_FORM: Final = "meet_open_form"
"""'Open the form' after Slack refused to open it (the trigger expired); value is the /meet
text that opens it ("schedule", "admin setup"), read again with bot.commands.form_of."""
CREATE_ANYWAY: Final = "meet_create_anyway"
"""'Create another anyway' after a duplicate request was held back; the value is the scheduled
request (blocks.answers.reading_value), read back and checked again on press."""
CREATE_ANYWAY_NOW: Final = "meet_create_anyway_now"
"""The same for an instant meeting; the value is its topic as typed ('' for none)."""
LIST_PAGE_PREV: Final = "meet_list_page_prev"
LIST_PAGE_NEXT: Final = "meet_list_page_next"
LIST_PAGE: Final = re.compile(r"^meet_list_page_(prev|next)$")
"""`/meet list`'s pager: the button's value is the page (from 0) to show."""
MAPPINGS_PAGE_PREV: Final = "meet_mappings_page_prev"
MAPPINGS_PAGE_NEXT: Final = "meet_mappings_page_next"
MAPPINGS_PAGE: Final = re.compile(r"^meet_mappings_page_(prev|next)$")
"""Register with app.action(MAPPINGS_PAGE); the button's value is the page number to show.
Two ids because Slack wants action_ids unique within a block."""

READING_PREFIX: Final = "meet_reading_"
READING: Final = re.compile(r"^meet_reading_\d$")
"""One reading of an unclear time ("Tomorrow 09:00"): action_id READING_PREFIX + its index
(unique within the block); the value is the whole request (blocks.answers.reading_value)."""
READING_FORM: Final = "meet_reading_form"
"""'Open the form' beside the readings; the value is the request that prefills the form."""

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
