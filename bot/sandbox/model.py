"""The sandbox's data model: registered apps, users, meetings and their sessions, faults, calls."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias

from bot.huawei.answers import ConfType
from bot.sandbox.rules import MeetingSpec, ParamError

__all__ = [
    "Admission",
    "Call",
    "ControlToken",
    "Faults",
    "Meeting",
    "Participant",
    "Party",
    "SandboxApp",
    "Scope",
    "Session",
    "User",
    "is_host",
    "login_account",
    "matches",
    "parties",
    "stable_hex",
    "user_uuid",
]

_UUID_NS: Final = uuid.UUID("5b0a3c5e-8f7d-4d0e-9a51-6a7c1f1b2d3e")

Scope: TypeAlias = tuple[str, str]
"""(app_id, corp_id): an enterprise; meetings never cross it."""
Party: TypeAlias = tuple[str, str, str]
"""(app_id, corp_id, third-party user id); "" as the id is the admin."""


@dataclass(frozen=True)
class SandboxApp:
    """One app registered with the sandbox; a corp_id makes it a service-provider (SP) app."""

    app_id: str
    app_key: str = field(repr=False)
    corp_id: str | None = None


@dataclass(slots=True)
class User:
    """A provisioned user (created at first appauth); `admin` is the empty-userId login."""

    uuid: str
    party: Party
    scope: Scope
    name: str
    login_account: str
    admin: bool
    user_type: int


@dataclass(slots=True)
class Session:
    """One start-to-end run of a meeting (a `confUUID`)."""

    conf_uuid: str
    started_at: float
    ended_at: float | None = None


@dataclass(slots=True)
class Participant:
    """Someone in the running session (joined through the control API)."""

    pid: str
    name: str
    account_id: str | None
    role: int


@dataclass(slots=True)
class Meeting:
    """A booking (`conferenceID`) with its sessions; `parties` may see it besides admins."""

    conference_id: str
    scope: Scope
    owner: User
    spec: MeetingSpec
    starts: list[float]
    """Booked start of every sub-meeting (one entry unless recurring)."""
    sub_ids: list[str]
    conf_type: ConfType
    chair_password: str
    guest_password: str
    chair_uri: str
    guest_uri: str
    parties: frozenset[Party]
    booked: bool = True
    cancelled: bool = False
    session: Session | None = None
    sessions: list[Session] = field(default_factory=list)
    participants: dict[str, Participant] = field(default_factory=dict)
    next_pid: int = 1

    @property
    def length_s(self) -> int:
        return self.spec.length * 60

    def slot(self, now: float) -> int:
        """Index of the current or next sub-meeting (the last one once all are over)."""
        for i, start in enumerate(self.starts):
            if now < start + self.length_s:
                return i
        return len(self.starts) - 1


@dataclass(slots=True)
class ControlToken:
    """A conference-control grant: role 1 chair, 0 guest."""

    conference_id: str
    role: int
    expires_at: float


@dataclass(slots=True)
class Faults:
    """The injected faults (`/_sandbox/faults`); `take` consumes one for a matching request."""

    latency_ms: float = 0.0
    fail_next: int = 0
    fail_status: int = 503
    timeout_next: int = 0
    timeout_seconds: float = 30.0
    path_prefix: str = ""
    method: str | None = None

    def take(self, method: str, path: str) -> Literal["fail", "timeout"] | None:
        if not path.startswith(self.path_prefix) or self.method not in (None, method):
            return None
        if self.fail_next > 0:
            self.fail_next -= 1
            return "fail"
        if self.timeout_next > 0:
            self.timeout_next -= 1
            return "timeout"
        return None


@dataclass(frozen=True, slots=True)
class Admission:
    """What fault injection decided for one vendor request."""

    fault: Literal["fail", "timeout"] | None
    delay_s: float
    fail_status: int
    timeout_s: float


@dataclass(slots=True)
class Call:
    """One vendor request as the handlers see it (authenticated user, sandbox time)."""

    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    now: float
    user: User | None
    client_ip: str

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            raise ParamError("the request body is not valid JSON") from None

    @property
    def caller(self) -> User:
        if self.user is None:
            raise RuntimeError("this vendor route was registered without authentication")
        return self.user


def stable_hex(*parts: str) -> str:
    """A stable 32-hex id derived from `parts` (user UUIDs, accounts)."""
    return uuid.uuid5(_UUID_NS, "\x1f".join(parts)).hex


def user_uuid(party: Party) -> str:
    """The vendor user UUID of a third-party user: stable per (app, corp, thirdAccount)."""
    return stable_hex("user", *party)


def login_account(party: Party) -> str:
    """The auto-provisioned Meeting account (`Auto-<32 hex>`) of a third-party user."""
    return "Auto-" + stable_hex("account", *party)


def is_host(user: User, m: Meeting) -> bool:
    """The organizer or an admin of the meeting's enterprise (chair rights)."""
    return user.admin or user.party == m.owner.party


def parties(owner: User, spec: MeetingSpec) -> frozenset[Party]:
    """Who sees a meeting: its organizer and every attendee invited by accountId."""
    app_id, corp_id = owner.scope
    invited = {(app_id, corp_id, a["accountId"]) for a in spec.attendees if "accountId" in a}
    return frozenset({owner.party, *invited})


def matches(m: Meeting, search_key: str | None) -> bool:
    """The vendor's `searchKey`: subject, conference ID or organizer name."""
    if not search_key:
        return True
    key = search_key.lower()
    return key in m.spec.subject.lower() or key in m.conference_id or key in m.owner.name.lower()
