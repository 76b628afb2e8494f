"""What the meeting service answers, read as pydantic models: strict about what meetbot acts
on (conference IDs, times, join links), lenient about the rest; a list answer is read item by
item (`read_conference_items`), so one odd item spoils only itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.huawei.models import Wire, WireTime

__all__ = [
    "JOIN_URL_MAX",
    "TOKEN_MAX_AGE_SECONDS",
    "AccessToken",
    "ConfType",
    "Conference",
    "ConferenceDetail",
    "ConferenceState",
    "OnlineAttendee",
    "Participant",
    "RecurrenceInfo",
    "SubConference",
    "TokenUser",
    "read_conference_items",
]

_log = logging.getLogger(__name__)

TOKEN_MAX_AGE_SECONDS: Final = 12 * 3600
"""The official SDK re-authenticates after 12 h whatever the token says; so do we."""


JOIN_URL_MAX: Final = 3000
"""Slack's limit on a button's URL: a longer join link could not be posted."""


def _join_url(value: object) -> object:
    """A join link we may post: https, with a host, no spaces, within Slack's limit; "" -> None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parts = urlsplit(value)
        if (
            parts.scheme != "https"
            or not parts.hostname
            or len(value) > JOIN_URL_MAX
            or any(c.isspace() or not c.isprintable() for c in value)
        ):
            raise ValueError(
                f"a join link must be an https URL of at most {JOIN_URL_MAX} characters"
            )
    return value


def _int_as_text(value: object) -> object:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


JoinUrl = Annotated[str | None, BeforeValidator(_join_url)]


class _Answer(Wire):
    """What the service answers: unknown fields are ignored and a JSON null is an absent
    field (the vendor treats them alike), so a null optional field takes its default."""

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


# --- what the service answers --------------------------------------------------------------


class ConferenceState(StrEnum):
    """A meeting's life: booked, being set up, in progress, closed."""

    SCHEDULE = "Schedule"
    CREATING = "Creating"
    CREATED = "Created"
    DESTROYED = "Destroyed"
    UNKNOWN = "unknown"
    """Any value the vendor documents no meaning for: nothing may be concluded from it."""


class ConfType(StrEnum):
    """How the meeting was booked."""

    FUTURE = "FUTURE"
    IMMEDIATELY = "IMMEDIATELY"
    CYCLE = "CYCLE"
    UNKNOWN = "unknown"
    """Any value the vendor documents no meaning for."""


class TokenUser(_Answer):
    """Who a token belongs to."""

    uuid: str | None = Field(default=None, alias="userId")
    """The vendor's user UUID (what `userUUID` parameters mean)."""
    third_account: str | None = Field(default=None, alias="thirdAccount")
    """The third-party user ID we authenticated as."""
    login_account: str | None = Field(default=None, alias="ucloginAccount")
    name: str | None = None
    corp_id: str | None = Field(default=None, alias="companyId")
    admin_type: int | None = Field(default=None, alias="adminType")
    """0 default admin, 1 admin, 2 regular member."""


class AccessToken(_Answer):
    """An appauth answer. The token itself is a SecretStr, so repr() never shows it."""

    access_token: SecretStr = Field(alias="accessToken")
    valid_period: int = Field(default=0, alias="validPeriod")
    """Lifetime in seconds."""
    expire_time: int | None = Field(default=None, alias="expireTime")
    """Epoch seconds (server clock)."""
    create_time: int | None = Field(default=None, alias="createTime")
    """Epoch milliseconds (server clock)."""
    user: TokenUser = Field(default_factory=TokenUser)

    def usable_for(self) -> float:
        """Seconds after issue during which we use the token before refreshing it.

        The hard end is min(expireTime, createTime + 12 h); we stop 10 % of the lifetime
        (at most 5 min) before it. Measured on the server's own clock, so skew cancels out.
        """
        created = self.create_time / 1000 if self.create_time else None
        if created is not None and self.expire_time:
            lifetime = float(self.expire_time) - created
        else:
            lifetime = float(self.valid_period)
        lifetime = min(lifetime, TOKEN_MAX_AGE_SECONDS)
        return max(0.0, lifetime - min(300.0, lifetime / 10))


class _PasswordEntry(_Answer):
    conference_role: str | None = Field(default=None, alias="conferenceRole")
    password: str | None = None


class RecurrenceInfo(_Answer):
    """A recurring meeting's rule as the service reports it (dates in its `time_zone_id`)."""

    start_date: date | None = Field(default=None, alias="startDate")
    end_date: date | None = Field(default=None, alias="endDate")
    cycle: str | None = None
    interval: int | None = None
    points: tuple[int, ...] = Field(default=(), alias="point")


class SubConference(_Answer):
    """One occurrence of a recurring meeting."""

    cycle_sub_conf_id: str | None = Field(default=None, alias="cycleSubConfID")
    start: WireTime = Field(default=None, alias="startTime")
    end: WireTime = Field(default=None, alias="endTime")


class Conference(_Answer):
    """A meeting as the service reports it (`ConferenceInfo`).

    Strict about what meetbot acts on -- the conference ID, the times, the join links -- and
    lenient about the rest: an undocumented state or type reads as UNKNOWN. A list answer's
    items are read one by one (`read_conference_items`), so one odd item spoils only itself.
    """

    conference_id: str = Field(alias="conferenceID", pattern=r"^[!-~]{1,64}$")
    """Visible ASCII, at most 64 characters (the vendor's are 9-digit numbers)."""
    conf_uuid: str | None = Field(default=None, alias="confUUID")
    """The session ID: each start/end cycle of one meeting has its own."""
    subject: str = ""
    state: ConferenceState | None = Field(default=None, alias="conferenceState")
    conf_type: ConfType | None = Field(default=None, alias="confType")
    conference_type: int | None = Field(default=None, alias="conferenceType")
    start: WireTime = Field(default=None, alias="startTime")
    end: WireTime = Field(default=None, alias="endTime")
    length_minutes: int | None = Field(default=None, alias="length")
    """Booked length; for a history record, how long the session actually lasted."""
    chair_join_uri: JoinUrl = Field(default=None, alias="chairJoinUri", repr=False)
    guest_join_uri: JoinUrl = Field(default=None, alias="guestJoinUri")
    password_entry: tuple[_PasswordEntry, ...] = Field(
        default=(), alias="passwordEntry", repr=False, exclude=True
    )
    online_attendee_amount: int | None = Field(default=None, alias="onlineAttendeeAmount")
    scheduser_name: str | None = Field(default=None, alias="scheduserName")
    user_uuid: str | None = Field(default=None, alias="userUUID")
    media_types: str | None = Field(default=None, alias="mediaTypes")
    time_zone_id: str | None = Field(default=None, alias="timeZoneID")
    sub_confs: tuple[SubConference, ...] = Field(default=(), alias="subConfs")
    cycle_sub_conf_id: str | None = Field(default=None, alias="cycleSubConfID")
    recurrence: RecurrenceInfo | None = Field(default=None, alias="cycleParams")

    @field_validator("conference_id", mode="before")
    @classmethod
    def _id_text(cls, value: object) -> object:
        return _int_as_text(value)

    @field_validator("state", "conf_type", mode="before")
    @classmethod
    def _undocumented_is_unknown(cls, value: object, info: ValidationInfo) -> object:
        kind = ConferenceState if info.field_name == "state" else ConfType
        if isinstance(value, str):
            try:
                return kind(value)
            except ValueError:
                pass
        return kind.UNKNOWN

    @model_validator(mode="after")
    def _length_from_times(self) -> Conference:
        # ConferenceInfo need not carry `length`; its start and end always say it.
        if self.length_minutes is None and self.start is not None and self.end is not None:
            minutes = int((self.end - self.start).total_seconds() // 60)
            object.__setattr__(self, "length_minutes", minutes)
        return self

    def _password(self, role: str) -> str | None:
        return next(
            (p.password for p in self.password_entry if p.conference_role == role and p.password),
            None,
        )

    @property
    def host_password(self) -> str | None:
        """The chair password (present for the organizer's own queries)."""
        return self._password("chair")

    @property
    def guest_password(self) -> str | None:
        """The guest password."""
        return self._password("general")

    @property
    def is_recurring(self) -> bool:
        """A recurring (cycle) meeting."""
        return (
            self.conf_type is ConfType.CYCLE
            or self.conference_type == 2
            or self.recurrence is not None
            or bool(self.sub_confs)
        )


class Participant(_Answer):
    """An invitee or participant listed in a meeting's detail."""

    participant_id: str | None = Field(default=None, alias="participantID")
    name: str = ""
    role: int | None = None
    """1 host, 0 guest."""
    account_id: str | None = Field(default=None, alias="accountId")
    """The third-party user ID (App ID mode)."""
    app_id: str | None = Field(default=None, alias="appId")
    user_uuid: str | None = Field(default=None, alias="userUUID")
    attendee_type: str | None = Field(default=None, alias="attendeeType")

    @field_validator("participant_id", mode="before")
    @classmethod
    def _id_text(cls, value: object) -> object:
        return _int_as_text(value)


class ConferenceDetail(_Answer):
    """A meeting with its invitee list (`confDetail`)."""

    conference: Conference = Field(alias="conferenceData")
    participants: tuple[Participant, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _unwrap_page(cls, data: Any) -> Any:
        if isinstance(data, dict) and "participants" not in data:
            page = data.get("data")
            items = page.get("data") if isinstance(page, dict) else None
            return {**data, "participants": items or ()}
        return data


class OnlineAttendee(_Answer):
    """Someone in a running meeting now (`conf-attendee`; the wire names are snake_case)."""

    participant_id: str
    name: str = ""
    call_number: str | None = None
    role: int | None = None
    """1 chair, 0 other."""
    third_account: str | None = None
    account: str | None = None
    user_id: str | None = None

    @field_validator("participant_id", mode="before")
    @classmethod
    def _id_text(cls, value: object) -> object:
        return _int_as_text(value)


# --- list answers, item by item ----------------------------------------------------------

_ENUM_FIELDS: Final = (("conferenceState", "state"), ("confType", "conf_type"))
_LOGGED_ID_MAX: Final = 64


def _logged_id(value: object) -> str:
    """The item's conference ID as it may appear in a log line (repr: no line breaks)."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        return repr(str(value)[:_LOGGED_ID_MAX])
    return "(none)"


def read_conference_items(items: Iterable[object], *, source: str) -> list[Conference]:
    """The meetings of a list answer (`source` names the list in logs), read one by one.

    One odd item never rejects the page. An item is kept with what is readable: a field that
    does not validate (a malformed time or join link, a mistyped count) is left out, an
    undocumented state or type reads as UNKNOWN. An item without a usable conference ID is
    skipped. Either way one log line names the fields and the conference ID; of the values,
    only an unknown state's or type's text is shown, so no password or host link is logged.
    """
    out: list[Conference] = []
    for item in items:
        conference = _read_item(item, source)
        if conference is not None:
            out.append(conference)
    return out


def _refused_fields(exc: ValidationError) -> set[str]:
    """The top-level wire names a validation refused ("" for the item as a whole)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    return {str(e["loc"][0]) if e["loc"] else "" for e in errors}


def _logged_value(value: object) -> str:
    return repr(value[:32]) if isinstance(value, str) else type(value).__name__


def _read_item(item: object, source: str) -> Conference | None:
    if not isinstance(item, dict):
        _log.warning("%s list: skipped an item that is not an object", source)
        return None
    ident = _logged_id(item.get("conferenceID"))
    left_out: set[str] = set()
    try:
        conference: Conference | None = Conference.model_validate(item)
    except ValidationError as exc:
        conference, left_out = None, _refused_fields(exc)
        if not left_out & {"conferenceID", ""}:
            readable = {k: v for k, v in item.items() if k not in left_out}
            try:
                conference = Conference.model_validate(readable)
            except ValidationError as again:
                left_out |= _refused_fields(again)
    if conference is None:
        refused = ", ".join(sorted(left_out - {""})) or "item"
        _log.warning(
            "%s list: skipped the item of conference %s: unreadable %s", source, ident, refused
        )
        return None
    unknown = [
        f"{wire}={_logged_value(item.get(wire))}"
        for wire, field in _ENUM_FIELDS
        if getattr(conference, field) in (ConferenceState.UNKNOWN, ConfType.UNKNOWN)
    ]
    if left_out or unknown:
        _log.warning(
            "%s list: conference %s kept without unreadable %s; unknown values: %s",
            source,
            ident,
            ", ".join(sorted(left_out)) or "-",
            ", ".join(unknown) or "-",
        )
    return conference
