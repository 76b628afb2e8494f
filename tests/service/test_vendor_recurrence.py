"""Our recurrence rule in the vendor's encoding, as a table: its cycle, its weekday numbering
(Sunday=0, ours is Monday=0), its zone IDs, and dates local to that zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import commands as cmd
from bot.huawei.models import Cycle, Recurrence
from bot.huawei.recurrence import vendor_recurrence, vendor_weekday

MONDAY_9_UTC = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""Monday 2 March 2026, 09:00 UTC: 17:00 in Shanghai, 10:00 in Berlin, 04:00 in New York."""
MONDAY_23_UTC = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
"""Already Tuesday 07:30 in Shanghai."""
YEAR_LATER = date(2027, 3, 1)
"""Monday 2 March 2026 + 364 days: where an open-ended series stops."""
BERLIN, SHANGHAI = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Shanghai")


def _week(
    *points: int, start: date = date(2026, 3, 2), end: date = YEAR_LATER, zone: str = "27"
) -> Recurrence:
    return Recurrence(
        cycle=Cycle.WEEK, points=points, start_date=start, end_date=end, time_zone_id=zone
    )


@pytest.mark.parametrize(
    ("rule", "start", "tz", "expected"),
    [
        pytest.param(
            cmd.Recurrence(cmd.Frequency.DAILY),
            MONDAY_9_UTC,
            BERLIN,
            Recurrence(
                cycle=Cycle.DAY,
                start_date=date(2026, 3, 2),
                end_date=YEAR_LATER,
                time_zone_id="27",
            ),
            id="daily-runs-a-year-less-a-day-when-no-end-was-given",
        ),
        pytest.param(
            cmd.Recurrence(cmd.Frequency.DAILY, until=date(2026, 3, 31)),
            MONDAY_9_UTC,
            BERLIN,
            Recurrence(
                cycle=Cycle.DAY,
                start_date=date(2026, 3, 2),
                end_date=date(2026, 3, 31),
                time_zone_id="27",
            ),
            id="daily-stops-on-the-chosen-end-date",
        ),
        pytest.param(
            cmd.Recurrence(cmd.Frequency.WEEKDAYS, (0, 1, 2, 3, 4)),
            MONDAY_9_UTC,
            BERLIN,
            _week(1, 2, 3, 4, 5),
            id="weekdays-are-monday-to-friday-in-the-vendors-numbering",
        ),
        pytest.param(
            cmd.Recurrence(cmd.Frequency.WEEKLY, (6,)),
            MONDAY_9_UTC,
            BERLIN,
            _week(0),
            id="sunday-is-the-vendors-day-zero",
        ),
        pytest.param(
            cmd.Recurrence(cmd.Frequency.WEEKLY, (4, 0, 2)),
            MONDAY_9_UTC,
            BERLIN,
            _week(1, 3, 5),
            id="weekly-days-are-sent-in-order",
        ),
        pytest.param(
            cmd.Recurrence(cmd.Frequency.WEEKLY),
            MONDAY_9_UTC,
            BERLIN,
            _week(1),
            id="weekly-without-days-repeats-on-the-first-meetings-day",
        ),
        pytest.param(
            cmd.Recurrence(cmd.Frequency.WEEKLY),
            MONDAY_23_UTC,
            SHANGHAI,
            _week(2, start=date(2026, 3, 3), end=date(2027, 3, 2), zone="56"),
            id="the-first-day-is-the-local-day-in-the-vendor-zone-not-utcs",
        ),
        pytest.param(
            cmd.Recurrence(cmd.Frequency.MONTHLY),
            datetime(2026, 3, 31, 9, 0, tzinfo=UTC),
            ZoneInfo("America/New_York"),
            Recurrence(
                cycle=Cycle.MONTH,
                points=(31,),
                start_date=date(2026, 3, 31),
                end_date=date(2027, 3, 30),
                time_zone_id="13",
            ),
            id="monthly-repeats-on-the-first-meetings-day-of-month",
        ),
    ],
)
def test_vendor_recurrence(
    rule: cmd.Recurrence, start: datetime, tz: ZoneInfo, expected: Recurrence
) -> None:
    assert vendor_recurrence(rule, start=start, tz=tz) == expected


@pytest.mark.parametrize(
    ("ours", "vendors"),
    [
        pytest.param(0, 1, id="monday"),
        pytest.param(1, 2, id="tuesday"),
        pytest.param(4, 5, id="friday"),
        pytest.param(5, 6, id="saturday"),
        pytest.param(6, 0, id="sunday-wraps-to-zero"),
    ],
)
def test_vendor_weekday(ours: int, vendors: int) -> None:
    assert vendor_weekday(ours) == vendors
