"""What /meet can mean: the typed Commands the grammar produces, and CommandError.

Pure data. The grammar is the bot/commands package (its parts sit beside this module); import
these names from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeAlias

from bot.rules import ErrorKind, Frequency, MappingMode

__all__ = [
    "AdminChannel",
    "AdminCheck",
    "AdminMap",
    "AdminMappingMode",
    "AdminMappings",
    "AdminReminders",
    "AdminSetup",
    "AdminUnmap",
    "Ambiguous",
    "Cancel",
    "Command",
    "CommandError",
    "Help",
    "InvalidCommandError",
    "ListMeetings",
    "NoTimeFound",
    "OpenScheduleModal",
    "Recurrence",
    "Schedule",
    "StartNow",
    "WhoAmI",
    "fail",
]


@dataclass(frozen=True, slots=True)
class Recurrence:
    """How a scheduled meeting repeats. `weekdays` are 0=Monday … 6=Sunday in the user's zone:
    all five for WEEKDAYS, the chosen days for WEEKLY, empty for DAILY and MONTHLY.
    """

    frequency: Frequency
    weekdays: tuple[int, ...] = ()
    until: date | None = None


@dataclass(frozen=True, slots=True)
class StartNow:
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    topic: str
    start: datetime  # aware, UTC
    tz_name: str
    duration_minutes: int
    invitees: tuple[str, ...] = ()  # Slack user IDs, deduplicated, in the order written
    recurrence: Recurrence | None = None


@dataclass(frozen=True, slots=True)
class NoTimeFound:
    """Text that names no time: offer "Start now" and an example; create nothing."""

    topic: str


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """A time read only in part or in more than one way: nothing is created; the user picks one
    of `readings` (each a complete, valid request) or opens the form prefilled with `form`."""

    problem: str
    """What was understood, in the user's zone, and why it was not booked."""
    readings: tuple[Schedule, ...]
    form: Schedule
    """Topic, duration and invitees as typed; its start is the date meant at a usual hour."""


@dataclass(frozen=True, slots=True)
class OpenScheduleModal:
    pass


@dataclass(frozen=True, slots=True)
class ListMeetings:
    pass


@dataclass(frozen=True, slots=True)
class Cancel:
    meeting_id: str  # digits only


@dataclass(frozen=True, slots=True)
class WhoAmI:
    pass


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class AdminSetup:
    pass


@dataclass(frozen=True, slots=True)
class AdminMap:
    user_id: str
    third_party_id: str


@dataclass(frozen=True, slots=True)
class AdminUnmap:
    user_id: str


@dataclass(frozen=True, slots=True)
class AdminMappings:
    page: int = 1


@dataclass(frozen=True, slots=True)
class AdminMappingMode:
    mode: MappingMode


@dataclass(frozen=True, slots=True)
class AdminReminders:
    minutes: tuple[int, ...]  # unique, descending


@dataclass(frozen=True, slots=True)
class AdminChannel:
    channel_id: str


@dataclass(frozen=True, slots=True)
class AdminCheck:
    pass


Command: TypeAlias = (
    StartNow
    | Schedule
    | NoTimeFound
    | Ambiguous
    | OpenScheduleModal
    | ListMeetings
    | Cancel
    | WhoAmI
    | Help
    | AdminSetup
    | AdminMap
    | AdminUnmap
    | AdminMappings
    | AdminMappingMode
    | AdminReminders
    | AdminChannel
    | AdminCheck
)


@dataclass(frozen=True, slots=True)
class CommandError:
    """What was wrong, in plain words, and a command that would work."""

    problem: str
    example: str
    kind: ErrorKind


class InvalidCommandError(Exception):
    """Carries a CommandError out of a helper of the grammar; never escapes `parse_command`."""

    def __init__(self, error: CommandError) -> None:
        super().__init__(error.problem)
        self.error = error


def fail(kind: ErrorKind, problem: str, example: str) -> InvalidCommandError:
    return InvalidCommandError(CommandError(problem=problem, example=example, kind=kind))
