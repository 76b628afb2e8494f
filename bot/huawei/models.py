"""Pydantic models of the meeting service: what we ask for (its answers: bot.huawei.answers).

Wire names live only here (as aliases); the rest of meetbot uses the snake_case fields.
Times on the wire are "yyyy-MM-dd HH:mm" in UTC; here they are aware UTC datetimes.
"""

from __future__ import annotations

import logging
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
    "AppAuthBody",
    "AppCredentials",
    "Attendee",
    "AttendeeRole",
    "Cycle",
    "MeetingSpec",
    "Recurrence",
    "ScheduleBody",
    "Wire",
    "WireTime",
    "format_wire_time",
    "parse_wire_time",
]

_log = logging.getLogger(__name__)

CLIENT_TYPE_API: Final = 72
"""appauth `clientType` for server-side API callers (allows 64 tokens per user)."""


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


def format_wire_time(value: datetime) -> str:
    """An aware datetime -> the wire's "yyyy-MM-dd HH:mm" in UTC."""
    if value.tzinfo is None:
        raise ValueError("meeting times must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


WireTime = Annotated[datetime | None, BeforeValidator(parse_wire_time)]


class Wire(BaseModel):
    """A model with its wire names as aliases (either name accepted), extra fields ignored."""

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


class _ConfConfig(Wire):
    is_send_notify: bool = Field(alias="isSendNotify")
    is_send_sms: bool = Field(alias="isSendSms")
    is_send_calendar: bool = Field(alias="isSendCalendar")


class _CycleParams(Wire):
    start_date: str = Field(alias="startDate")
    end_date: str = Field(alias="endDate")
    cycle: str
    interval: int
    point: list[int] | None = None


class _WireAttendee(Wire):
    account_id: str = Field(alias="accountId")
    app_id: str = Field(alias="appId")
    name: str
    role: int


class ScheduleBody(Wire):
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


class AppAuthBody(Wire):
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
