"""The sandbox's pure vendor rules: request validation, recurrence expansion, wire time formats.

No clock and no I/O: every function takes `now` (epoch seconds) where time matters.
The wire's vocabulary (cycle kinds, roles, error codes, the time format) is the client's
(`bot.huawei.models`, `.answers`, `.errors`); the checks are the sandbox's own, as strict as the vendor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.huawei.errors import CONF_NOT_FOUND, CONF_NOT_RUNNING
from bot.huawei.models import AttendeeRole, Cycle
from bot.huawei.models import format_wire_time as wire_time
from bot.huawei.timezones import vendor_zone_info

__all__ = [
    "MAX_SUB_CONFS",
    "PAST_GRACE_SECONDS",
    "CycleParams",
    "MeetingSpec",
    "NotFoundError",
    "NotStartedError",
    "ParamError",
    "SandboxError",
    "expand_cycle",
    "format_wire_time",
    "int_param",
    "parse_meeting_spec",
    "zone_for",
]

PAST_GRACE_SECONDS: Final = 300
"""How far in the past a scheduled startTime may lie (clients round to the minute)."""
MAX_SUB_CONFS: Final = 50
LENGTH_MIN, LENGTH_MAX, LENGTH_DEFAULT = 15, 1440, 30
SUBJECT_MAX: Final = 128
ATTENDEE_NAME_MAX: Final = 96
MEDIA_TYPES: Final = frozenset({"Voice", "Video", "HDVideo", "Data"})
_WIRE_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
_WIRE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GUEST_PWD = re.compile(r"\d{4,16}")
_CYCLE_INTERVALS: Final = {Cycle.DAY: 15, Cycle.WEEK: 5, Cycle.MONTH: 3}


class SandboxError(Exception):
    """A vendor error answer: HTTP status plus the `{error_code, error_msg}` body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ParamError(SandboxError):
    """400 parameter error (a sandbox code: the vendor publishes none)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "MMC.990000001", message)


class NotFoundError(SandboxError):
    """400: the meeting does not exist, is not visible to the caller, or its booking is over."""

    def __init__(self) -> None:
        super().__init__(400, CONF_NOT_FOUND, "the meeting does not exist or has ended")


class NotStartedError(SandboxError):
    """400: the action needs a running meeting (control token, stop, online attendees)."""

    def __init__(self) -> None:
        super().__init__(400, CONF_NOT_RUNNING, "the meeting has not started or has already ended")


def zone_for(time_zone_id: str | None) -> ZoneInfo:
    """The IANA zone of a vendor `timeZoneID` (the vendor's table); UTC when none is given."""
    if not time_zone_id:
        return ZoneInfo("UTC")
    try:
        return vendor_zone_info(time_zone_id)
    except ValueError:
        raise ParamError(
            f"timeZoneID {time_zone_id!r} is not in the vendor's table (1-73)"
        ) from None


def format_wire_time(epoch: float) -> str:
    """`YYYY-MM-DD HH:MM` in UTC, the vendor's ConferenceInfo time format."""
    return wire_time(datetime.fromtimestamp(epoch, UTC))


def int_param(
    query: Mapping[str, str], name: str, default: int, *, low: int = 0, high: int | None = None
) -> int:
    """A bounded integer query parameter (offset, limit, type ...)."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ParamError(f"{name} must be an integer") from None
    if value < low or (high is not None and value > high):
        bound = f"{low}-{high}" if high is not None else f">= {low}"
        raise ParamError(f"{name} must be {bound}")
    return value


@dataclass(frozen=True)
class CycleParams:
    """A validated `cycleParams`: local dates in the meeting's zone."""

    start_date: date
    end_date: date
    cycle: Cycle
    interval: int
    point: tuple[int, ...]
    pre_remind_days: int

    def wire(self) -> dict[str, Any]:
        return {
            "startDate": self.start_date.isoformat(),
            "endDate": self.end_date.isoformat(),
            "cycle": self.cycle,
            "interval": self.interval,
            "point": list(self.point),
            "preRemindDays": self.pre_remind_days,
        }


@dataclass(frozen=True)
class MeetingSpec:
    """A validated `RestScheduleConfDTO`."""

    subject: str
    start: float | None
    """Epoch seconds of the booked start; None for an instant meeting."""
    length: int
    media_types: str
    time_zone_id: str | None
    language: str
    attendees: tuple[dict[str, Any], ...]
    conf_config: dict[str, Any] = field(default_factory=dict)
    cycle: CycleParams | None = None


def _get(body: Mapping[str, Any], name: str) -> Any:
    # The vendor treats a JSON null like an absent field.
    return body.get(name)


def _string(body: Mapping[str, Any], name: str, *, max_len: int | None = None) -> str | None:
    value = _get(body, name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParamError(f"{name} must be a string")
    if max_len is not None and len(value) > max_len:
        raise ParamError(f"{name} must have at most {max_len} characters")
    return value


def _integer(body: Mapping[str, Any], name: str) -> int | None:
    value = _get(body, name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamError(f"{name} must be an integer")
    return value


def _parse_start(raw: str, now: float) -> float:
    if not _WIRE_TIME.fullmatch(raw):
        raise ParamError("startTime must be 'yyyy-MM-dd HH:mm' (UTC)")
    try:
        start = datetime.strptime(raw, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise ParamError("startTime is not a valid date and time") from None
    if start < now - PAST_GRACE_SECONDS:
        raise ParamError("startTime is in the past")
    return start


def _parse_attendees(raw: Any, app_id: str) -> tuple[dict[str, Any], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        raise ParamError("attendees must be a list of objects")
    out = []
    for attendee in raw:
        account = _string(attendee, "accountId")
        if account is not None and _string(attendee, "appId") != app_id:
            raise ParamError("an attendee with accountId needs appId of this app (App ID mode)")
        _string(attendee, "name", max_len=ATTENDEE_NAME_MAX)
        if _integer(attendee, "role") not in (None, *AttendeeRole):
            raise ParamError("attendee role must be 0 (guest) or 1 (host)")
        out.append({k: v for k, v in attendee.items() if v is not None})
    return tuple(out)


def _parse_conf_config(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ParamError("confConfigInfo must be an object")
    if _integer(raw, "callInRestriction") not in (None, 0, 2, 3):
        raise ParamError("callInRestriction must be 0, 2 or 3")
    prolong = _integer(raw, "prolongLength")
    if prolong is not None and not 0 <= prolong <= 60:
        raise ParamError("prolongLength must be 0-60")
    pwd = _string(raw, "guestPwd")
    if pwd is not None and not _GUEST_PWD.fullmatch(pwd):
        raise ParamError("guestPwd must be 4-16 digits")
    return {k: v for k, v in raw.items() if v is not None}


def _parse_date(raw: Any, name: str) -> date:
    if not isinstance(raw, str) or not _WIRE_DATE.fullmatch(raw):
        raise ParamError(f"cycleParams.{name} must be 'YYYY-MM-DD'")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ParamError(f"cycleParams.{name} is not a valid date") from None


def _parse_cycle(raw: Any, today: date) -> CycleParams:
    if not isinstance(raw, dict):
        raise ParamError("cycleParams is required for a recurring meeting")
    start, end = (
        _parse_date(raw.get("startDate"), "startDate"),
        _parse_date(raw.get("endDate"), "endDate"),
    )
    if start < today:
        raise ParamError("cycleParams.startDate is earlier than today")
    if end < start:
        raise ParamError("cycleParams.endDate is earlier than startDate")
    if end > _add_months(start, 12):
        raise ParamError("cycleParams.endDate is more than one year after startDate")
    cycle = raw.get("cycle")
    if not isinstance(cycle, str) or cycle not in _CYCLE_INTERVALS:
        raise ParamError("cycleParams.cycle must be Day, Week or Month")
    kind = Cycle(cycle)
    interval = _integer(raw, "interval") or 1
    if not 1 <= interval <= _CYCLE_INTERVALS[kind]:
        raise ParamError(f"cycleParams.interval must be 1-{_CYCLE_INTERVALS[kind]} for {kind}")
    point = raw.get("point") or []
    if not isinstance(point, list) or not all(
        isinstance(p, int) and not isinstance(p, bool) for p in point
    ):
        raise ParamError("cycleParams.point must be a list of integers")
    valid = range(7) if kind is Cycle.WEEK else range(1, 32)
    if kind is not Cycle.DAY and (not point or any(p not in valid for p in point)):
        raise ParamError(
            f"cycleParams.point must list {kind.lower()} days in {valid.start}-{valid.stop - 1}"
        )
    remind = _integer(raw, "preRemindDays")
    if remind is not None and not 0 <= remind <= 30:
        raise ParamError("cycleParams.preRemindDays must be 0-30")
    return CycleParams(
        start_date=start,
        end_date=end,
        cycle=kind,
        interval=interval,
        point=tuple(sorted(set(point))) if kind is not Cycle.DAY else (),
        pre_remind_days=1 if remind is None else remind,
    )


def parse_meeting_spec(
    body: Any, *, app_id: str, now: float, recurring: bool = False
) -> MeetingSpec:
    """Validate a create/edit body against the vendor's field rules."""
    if not isinstance(body, dict):
        raise ParamError("the request body must be a JSON object")
    raw_start = _string(body, "startTime")
    length = _integer(body, "length")
    length = LENGTH_DEFAULT if length is None else length
    if not LENGTH_MIN <= length <= LENGTH_MAX:
        raise ParamError(f"length must be {LENGTH_MIN}-{LENGTH_MAX} minutes")
    media = _string(body, "mediaTypes")
    if not media or any(m not in MEDIA_TYPES for m in media.split(",")):
        raise ParamError("mediaTypes is required: Voice, HDVideo (or Video, Data), comma separated")
    time_zone_id = _string(body, "timeZoneID")
    zone = zone_for(time_zone_id)
    language = _string(body, "language") or "zh-CN"
    if language not in ("zh-CN", "en-US"):
        raise ParamError("language must be zh-CN or en-US")
    cycle = None
    if recurring:
        if not raw_start:
            raise ParamError("startTime is required for a recurring meeting")
        today = datetime.fromtimestamp(now, zone).date()
        cycle = _parse_cycle(_get(body, "cycleParams"), today)
    return MeetingSpec(
        subject=_string(body, "subject", max_len=SUBJECT_MAX) or "",
        start=_parse_start(raw_start, now) if raw_start else None,
        length=length,
        media_types=media,
        time_zone_id=time_zone_id,
        language=language,
        attendees=_parse_attendees(_get(body, "attendees"), app_id),
        conf_config=_parse_conf_config(_get(body, "confConfigInfo")),
        cycle=cycle,
    )


def _add_months(day: date, months: int, *, day_of_month: int | None = None) -> date:
    """`day` moved by whole months; a day the month lacks falls on the month end."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_first = date(year + month // 12, month % 12 + 1, 1)
    last = (next_first - timedelta(days=1)).day
    return date(year, month, min(day_of_month or day.day, last))


def _cycle_dates(cycle: CycleParams) -> list[date]:
    out: list[date] = []
    if cycle.cycle is Cycle.DAY:
        step = timedelta(days=cycle.interval)
        day = cycle.start_date
        while day <= cycle.end_date and len(out) < MAX_SUB_CONFS:
            out.append(day)
            day += step
        return out
    if cycle.cycle is Cycle.WEEK:
        # Weeks start on Sunday (point 0); every `interval`-th week from startDate's week.
        week_start = cycle.start_date - timedelta(days=(cycle.start_date.weekday() + 1) % 7)
        while week_start <= cycle.end_date and len(out) < MAX_SUB_CONFS:
            for p in cycle.point:
                day = week_start + timedelta(days=p)
                if cycle.start_date <= day <= cycle.end_date and len(out) < MAX_SUB_CONFS:
                    out.append(day)
            week_start += timedelta(weeks=cycle.interval)
        return out
    months = 0
    while len(out) < MAX_SUB_CONFS:
        first = _add_months(cycle.start_date.replace(day=1), months)
        if first > cycle.end_date:
            break
        days = sorted({_add_months(first, 0, day_of_month=p) for p in cycle.point})
        out.extend(d for d in days if cycle.start_date <= d <= cycle.end_date)
        months += cycle.interval
    return out[:MAX_SUB_CONFS]


def expand_cycle(cycle: CycleParams, *, first_start: float, zone: ZoneInfo) -> list[float]:
    """Start times (epoch s) of the sub-meetings: startTime's local wall-clock time on each date.

    At most MAX_SUB_CONFS; the vendor silently drops the rest (moving endDate earlier).
    """
    local_time = datetime.fromtimestamp(first_start, zone).timetz().replace(tzinfo=None)
    return [
        datetime.combine(day, local_time, tzinfo=zone).timestamp() for day in _cycle_dates(cycle)
    ]
