"""Our recurrence rule in the vendor's encoding: its cycle, its weekday numbering (Sunday=0)
and its numeric time-zone IDs, with dates local to that zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot import commands as cmd
from bot.huawei.models import Cycle, Recurrence
from bot.huawei.timezones import vendor_zone_id, vendor_zone_info

__all__ = ["vendor_recurrence", "vendor_weekday"]


def vendor_weekday(weekday: int) -> int:
    """A weekday counted Monday=0 (ours, Python's) as the vendor counts it: Sunday=0."""
    return (weekday + 1) % 7


def vendor_recurrence(rule: cmd.Recurrence, *, start: datetime, tz: ZoneInfo) -> Recurrence:
    """Our recurrence rule as the vendor's cycle parameters (local dates in the vendor zone)."""
    zone_id = vendor_zone_id(tz)
    local = start.astimezone(vendor_zone_info(zone_id))
    first = local.date()
    until = rule.until or (first + cmd.RECURRENCE_HORIZON)
    match rule.frequency:
        case cmd.Frequency.DAILY:
            return Recurrence(
                cycle=Cycle.DAY, start_date=first, end_date=until, time_zone_id=zone_id
            )
        case cmd.Frequency.MONTHLY:
            return Recurrence(
                cycle=Cycle.MONTH,
                points=(first.day,),
                start_date=first,
                end_date=until,
                time_zone_id=zone_id,
            )
        case cmd.Frequency.WEEKDAYS | cmd.Frequency.WEEKLY:
            days = (0, 1, 2, 3, 4) if rule.frequency is cmd.Frequency.WEEKDAYS else rule.weekdays
            points = tuple(sorted({vendor_weekday(d) for d in days or (first.weekday(),)}))
            return Recurrence(
                cycle=Cycle.WEEK,
                points=points,
                start_date=first,
                end_date=until,
                time_zone_id=zone_id,
            )
