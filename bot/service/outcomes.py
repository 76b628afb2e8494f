"""What a use case answers: one typed outcome per kind of answer; the chat side renders it."""

from __future__ import annotations

from dataclasses import dataclass

from bot import commands as cmd
from bot.service.identity import NotConfigured, NotMapped
from bot.service.ports import MeetingRow, Profile

__all__ = [
    "AdminDone",
    "AppSettings",
    "Cancelled",
    "Created",
    "Duplicate",
    "Failure",
    "Help",
    "Listing",
    "MappingPage",
    "NoTime",
    "NotAllowed",
    "OpenAdminSetup",
    "OpenSchedule",
    "Outcome",
    "Problem",
    "Unclear",
    "VendorFailure",
    "WhoAmI",
]


@dataclass(frozen=True, slots=True)
class Created:
    """A meeting exists at the vendor and in the database; its card is still to be posted."""

    meeting: MeetingRow
    host_url: str | None
    host_password: str | None
    invitees: tuple[Profile, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """The user's input was wrong: what, and a correct example."""

    problem: str
    example: str


@dataclass(frozen=True, slots=True)
class NoTime:
    """`/meet <topic>` without a time: offer to start now, create nothing."""

    topic: str


@dataclass(frozen=True, slots=True)
class Unclear:
    """A time read in part or in two ways: offer its readings and the form; create nothing."""

    question: cmd.Ambiguous


@dataclass(frozen=True, slots=True)
class NotAllowed:
    """The user may not do `action` (just the action, e.g. "cancel this meeting": the chat
    side says who may)."""

    action: str


@dataclass(frozen=True, slots=True)
class VendorFailure:
    """The meeting service refused or failed; `user_message` is plain language."""

    user_message: str


@dataclass(frozen=True, slots=True)
class Failure:
    """meetbot itself failed and undid what it had begun; `user_message` says so."""

    user_message: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The request repeats a meeting the same person just created here (bot.rules.is_duplicate):
    nothing was created; `meeting` is that one, `request` what to create if they insist."""

    meeting: MeetingRow
    request: cmd.StartNow | cmd.Schedule


@dataclass(frozen=True, slots=True)
class Listing:
    """One page (from 0) of the upcoming meetings the user organizes or is invited to in this
    workspace; `total` in all; `cancellable` the IDs of those they may cancel."""

    meetings: tuple[MeetingRow, ...]
    total: int = 0
    page: int = 0
    cancellable: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Cancelled:
    """A meeting was cancelled at the vendor and its pending messages withdrawn."""

    meeting: MeetingRow
    by: str


@dataclass(frozen=True, slots=True)
class WhoAmI:
    """The user's meeting identity, or why there is none."""

    user_id: str
    third_party_id: str | None
    mode: str
    problem: str | None


@dataclass(frozen=True, slots=True)
class Help:
    """The help text (admins see the admin commands)."""

    is_admin: bool


@dataclass(frozen=True, slots=True)
class MappingPage:
    """One page of explicit mappings."""

    rows: tuple[tuple[str, str], ...]
    page: int
    pages: int
    mode: str


@dataclass(frozen=True, slots=True)
class AdminDone:
    """An admin change was made; `text` confirms it (about `user_id`, when set)."""

    text: str
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class AppSettings:
    """The workspace's meeting-service setup as the admin form shows it."""

    app_id: str
    corp_id: str
    mapping_mode: str
    has_key: bool
    key_unreadable: bool = False
    """A key is stored but the server's secret key cannot open it: ask for it again."""


@dataclass(frozen=True, slots=True)
class OpenSchedule:
    """Open the scheduling modal."""

    topic: str = ""


@dataclass(frozen=True, slots=True)
class OpenAdminSetup:
    """Open the admin setup modal (admins only)."""


Outcome = (
    Created
    | Duplicate
    | Problem
    | NoTime
    | Unclear
    | NotMapped
    | NotConfigured
    | NotAllowed
    | VendorFailure
    | Failure
    | Listing
    | Cancelled
    | WhoAmI
    | Help
    | MappingPage
    | AdminDone
    | OpenSchedule
    | OpenAdminSetup
)
