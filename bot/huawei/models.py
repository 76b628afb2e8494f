"""Pydantic models of the meeting service: what we ask for and what it answers.

Wire names live only here (as aliases); the rest of meetbot uses the snake_case fields.
Times on the wire are "yyyy-MM-dd HH:mm" in UTC; here they are aware UTC datetimes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.huawei.signature import SignMode

__all__ = [
    "AccessToken",
    "AppAuthBody",
    "AppCredentials",
    "Attendee",
    "AttendeeRole",
    "ConfType",
    "Conference",
    "ConferenceDetail",
    "ConferenceState",
    "Cycle",
    "MeetingSpec",
    "OnlineAttendee",
    "Participant",
    "Recurrence",
    "RecurrenceInfo",
    "ScheduleBody",
    "SubConference",
    "TokenUser",
    "format_wire_time",
    "parse_wire_time",
    "read_conference_items",
]

_log = logging.getLogger(__name__)

CLIENT_TYPE_API: Final = 72
"""appauth `clientType` for server-side API callers (allows 64 tokens per user)."""

TOKEN_MAX_AGE_SECONDS: Final = 12 * 3600
"""The official SDK re-authenticates after 12 h whatever the token says; so do we."""


JOIN_URL_MAX: Final = 3000
"""Slack's limit on a button's URL: a longer join link could not be posted."""


def parse_wire_time(value: object) -> object:
    """ "YYYY-MM-DD HH:MM" (UTC on the wire) -> aware UTC datetime; "" -> None.

    Only text (or a datetime, from Python) is a time: a number is refused, not guessed at.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(value, datetime):
        return value
    raise ValueError("a time must be 'YYYY-MM-DD HH:MM'")


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


def format_wire_time(value: datetime) -> str:
    """An aware datetime -> the wire's "yyyy-MM-dd HH:mm" in UTC."""
    if value.tzinfo is None:
        raise ValueError("meeting times must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


WireTime = Annotated[datetime | None, BeforeValidator(parse_wire_time)]
JoinUrl = Annotated[str | None, BeforeValidator(_join_url)]


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class _Answer(_Wire):
    """What the service answers: unknown fields are ignored and a JSON null is an absent
    field (the vendor treats them alike), so a null optional field takes its default."""

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


# --- caller identity ---------------------------------------------------------------------


class AppCredentials(BaseModel):
    """A meeting-service app: its ID and key, and the corp ID in SP (service-provider) mode."""

    model_config = ConfigDict(frozen=True)

    app_id: str = Field(min_length=1)
    app_key: SecretStr
    corp_id: str | None = None
    _key_id: int = PrivateAttr(default=0)

    def model_post_init(self, _context: Any, /) -> None:
        # Part of the token-cache key, so a wrong key never reuses tokens issued to the right one.
        self._key_id = hash(self.app_key.get_secret_value())

    @property
    def key_id(self) -> int:
        """An in-process fingerprint of the app key (never the key itself)."""
        return self._key_id

    def sign_mode(self, user_id: str | None) -> SignMode:
        """How appauth must sign for `user_id` (None/"" = the enterprise admin/owner)."""
        if not self.corp_id:
            return SignMode.SINGLE
        return SignMode.SP_USER if user_id else SignMode.SP_CORP_ADMIN


# --- what we ask for -----------------------------------------------------------------------


class AttendeeRole(IntEnum):
    """An invitee's role in the meeting."""

    GUEST = 0
    HOST = 1


class Cycle(StrEnum):
    """How a recurring meeting repeats."""

    DAY = "Day"
    WEEK = "Week"
    MONTH = "Month"


class Attendee(BaseModel):
    """An invitee, by third-party user ID (App ID mode)."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    name: str
    role: AttendeeRole = AttendeeRole.GUEST


class Recurrence(BaseModel):
    """A recurring meeting's rule; dates are local dates in the vendor zone `time_zone_id`.

    `points`: weekdays 0 (Sunday)-6 for weekly, days 1-31 for monthly, ignored for daily.
    `time_zone_id` is the vendor's numeric zone ID (e.g. "56" = Beijing), not an IANA name.
    """

    model_config = ConfigDict(frozen=True)

    cycle: Cycle
    interval: int = 1
    points: tuple[int, ...] = ()
    start_date: date
    end_date: date
    time_zone_id: str


class MeetingSpec(BaseModel):
    """The meeting a user wants. Limits (subject length, 15-1440 minutes) are the vendor's to
    enforce; its refusal comes back as InvalidRequest with its own message."""

    model_config = ConfigDict(frozen=True)

    subject: str
    start: datetime | None = None
    """Aware start time; None for an instant meeting (starts now)."""
    length_minutes: int = 30
    media_types: str = "HDVideo"
    attendees: tuple[Attendee, ...] = ()
    recurrence: Recurrence | None = None
    vendor_notifications: bool = False
    """Let the vendor send its own email/SMS/calendar notices; off: the bot notifies."""
    language: str | None = None
    time_zone_id: str | None = None
    """Vendor zone ID used in its notices; defaults to the recurrence's zone."""

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        return value

    @model_validator(mode="after")
    def _recurring_needs_start(self) -> MeetingSpec:
        if self.recurrence is not None and self.start is None:
            raise ValueError("a recurring meeting needs a start time")
        return self


class _ConfConfig(_Wire):
    is_send_notify: bool = Field(alias="isSendNotify")
    is_send_sms: bool = Field(alias="isSendSms")
    is_send_calendar: bool = Field(alias="isSendCalendar")


class _CycleParams(_Wire):
    start_date: str = Field(alias="startDate")
    end_date: str = Field(alias="endDate")
    cycle: str
    interval: int
    point: list[int] | None = None


class _WireAttendee(_Wire):
    account_id: str = Field(alias="accountId")
    app_id: str = Field(alias="appId")
    name: str
    role: int


class ScheduleBody(_Wire):
    """The create/edit body (`RestScheduleConfDTO`); `wire()` is exactly what is sent."""

    subject: str
    start_time: str | None = Field(default=None, alias="startTime")
    length: int
    media_types: str = Field(alias="mediaTypes")
    attendees: list[_WireAttendee] | None = None
    language: str | None = None
    time_zone_id: str | None = Field(default=None, alias="timeZoneID")
    conf_config_info: _ConfConfig = Field(alias="confConfigInfo")
    cycle_params: _CycleParams | None = Field(default=None, alias="cycleParams")

    @classmethod
    def from_spec(cls, spec: MeetingSpec, *, app_id: str) -> ScheduleBody:
        """The body for `spec`; invitees are addressed by third-party ID of app `app_id`."""
        notify = spec.vendor_notifications
        rec = spec.recurrence
        return cls(
            subject=spec.subject,
            start_time=format_wire_time(spec.start) if spec.start else None,
            length=spec.length_minutes,
            media_types=spec.media_types,
            attendees=[
                _WireAttendee(account_id=a.account_id, app_id=app_id, name=a.name, role=int(a.role))
                for a in spec.attendees
            ]
            or None,
            language=spec.language,
            time_zone_id=spec.time_zone_id or (rec.time_zone_id if rec else None),
            conf_config_info=_ConfConfig(
                is_send_notify=notify, is_send_sms=notify, is_send_calendar=notify
            ),
            cycle_params=_CycleParams(
                start_date=rec.start_date.isoformat(),
                end_date=rec.end_date.isoformat(),
                cycle=rec.cycle.value,
                interval=rec.interval,
                point=list(rec.points) if rec.cycle is not Cycle.DAY else None,
            )
            if rec
            else None,
        )

    def wire(self) -> dict[str, Any]:
        """The JSON body: wire names, unset fields omitted."""
        return self.model_dump(by_alias=True, exclude_none=True)


class AppAuthBody(_Wire):
    """The appauth body; `corpId` only in SP mode (single-enterprise auth fails with it)."""

    app_id: str = Field(alias="appId")
    client_type: int = Field(default=CLIENT_TYPE_API, alias="clientType")
    expire_time: int = Field(alias="expireTime")
    nonce: str
    user_id: str = Field(default="", alias="userId")
    corp_id: str | None = Field(default=None, alias="corpId")

    def wire(self) -> dict[str, Any]:
        """The JSON body: wire names, unset fields omitted."""
        return self.model_dump(by_alias=True, exclude_none=True)


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
