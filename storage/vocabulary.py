"""The words stored in the database's text columns: one home each.

Pure and stdlib-only, so that `storage.models` (CHECK constraints, defaults), `storage.repo`
(typed rows) and `bot.rules` (which re-exports these names for the rest of the bot: storage
imports nothing from `bot/`) all read the same enums.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = ["OPEN_STATES", "PRIVATE_CARD", "MappingMode", "MeetingState"]


class MappingMode(StrEnum):
    """How a workspace turns a Slack user into a third-party user ID (design.md, User mapping);
    the values of `workspace.mapping_mode`."""

    EMAIL = "email"
    SLACK = "slack"
    EXPLICIT = "explicit"


class MeetingState(StrEnum):
    """Life cycle of a meeting as the bot knows it; the values of `meeting.state`, and what a
    meeting's card shows."""

    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


OPEN_STATES: Final[tuple[str, ...]] = (MeetingState.SCHEDULED.value, MeetingState.LIVE.value)
"""The `meeting.state` values of a meeting not yet ended or cancelled (plain strings, as bound
in queries): the status poll watches these, and only these can be cancelled."""

PRIVATE_CARD: Final = "private"
"""`meeting.card_state` when the card could not be posted in the meeting's channel (it was
shown privately to the organizer); otherwise that column holds the MeetingState the card shows."""
