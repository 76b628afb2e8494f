"""Pydantic models of the meeting service: what we ask for and what it answers.

Wire names live only here (as aliases); the rest of meetbot uses the snake_case fields.
Times on the wire are "yyyy-MM-dd HH:mm" in UTC; here they are aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
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
]

CLIENT_TYPE_API: Final = 72
"""appauth `clientType` for server-side API callers (allows 64 tokens per user)."""

TOKEN_MAX_AGE_SECONDS: Final = 12 * 3600
"""The official SDK re-authenticates after 12 h whatever the token says; so do we."""


def parse_wire_time(value: object) -> object:
    """ "YYYY-MM-DD HH:MM" (UTC on the wire) -> aware UTC datetime; "" -> None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


def format_wire_time(value: datetime) -> str:
    """An aware datetime -> the wire's "yyyy-MM-dd HH:mm" in UTC."""
    if value.tzinfo is None:
        raise ValueError("meeting times must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


WireTime = Annotated[datetime | None, BeforeValidator(parse_wire_time)]


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


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


class ConfType(StrEnum):
    """How the meeting was booked."""

    FUTURE = "FUTURE"
    IMMEDIATELY = "IMMEDIATELY"
    CYCLE = "CYCLE"


class TokenUser(_Wire):
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


class AccessToken(_Wire):
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


class _PasswordEntry(_Wire):
    conference_role: str = Field(alias="conferenceRole")
    password: str


class RecurrenceInfo(_Wire):
    """A recurring meeting's rule as the service reports it (dates in its `time_zone_id`)."""

    start_date: date | None = Field(default=None, alias="startDate")
    end_date: date | None = Field(default=None, alias="endDate")
    cycle: str | None = None
    interval: int | None = None
    points: tuple[int, ...] = Field(default=(), alias="point")


class SubConference(_Wire):
    """One occurrence of a recurring meeting."""

    cycle_sub_conf_id: str = Field(alias="cycleSubConfID")
    start: WireTime = Field(default=None, alias="startTime")
    end: WireTime = Field(default=None, alias="endTime")


class Conference(_Wire):
    """A meeting as the service reports it (`ConferenceInfo`)."""

    conference_id: str = Field(alias="conferenceID")
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
    chair_join_uri: str | None = Field(default=None, alias="chairJoinUri", repr=False)
    guest_join_uri: str | None = Field(default=None, alias="guestJoinUri")
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

    @model_validator(mode="after")
    def _length_from_times(self) -> Conference:
        # ConferenceInfo need not carry `length`; its start and end always say it.
        if self.length_minutes is None and self.start is not None and self.end is not None:
            minutes = int((self.end - self.start).total_seconds() // 60)
            object.__setattr__(self, "length_minutes", minutes)
        return self

    def _password(self, role: str) -> str | None:
        return next((p.password for p in self.password_entry if p.conference_role == role), None)

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


class Participant(_Wire):
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
        return str(value) if isinstance(value, int) else value


class ConferenceDetail(_Wire):
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


class OnlineAttendee(_Wire):
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
        return str(value) if isinstance(value, int) else value
