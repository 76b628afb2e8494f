"""Huawei ``timeZoneID`` table and its mapping to and from IANA zones."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.huawei.timezones import (
    HUAWEI_TIME_ZONES,
    IANA_ALIASES,
    REFERENCE_YEAR,
    VendorZone,
    vendor_zone_id,
    vendor_zone_info,
)

ROWS = list(HUAWEI_TIME_ZONES.values())
ROW_IDS = [f"{row.id}-{row.iana}" for row in ROWS]
REPRESENTATIVES = {row.iana for row in ROWS}


def offsets_over_year(zone: ZoneInfo | str, year: int = REFERENCE_YEAR) -> list[timedelta | None]:
    """UTC offsets on the 15th of every month, an oracle independent of the module's Jan/Jul."""
    info = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return [
        datetime(year, month, 15, 12, tzinfo=UTC).astimezone(info).utcoffset()
        for month in range(1, 13)
    ]


def standard_offset(zone: ZoneInfo | str, year: int = REFERENCE_YEAR) -> timedelta:
    return min(offset for offset in offsets_over_year(zone, year) if offset is not None)


def label_offset(label: str) -> timedelta:
    match = re.match(r"\(GMT(?:([+-])(\d\d):(\d\d))?\)", label)
    assert match is not None, label
    sign, hours, minutes = match.groups()
    if sign is None:
        return timedelta(0)
    magnitude = timedelta(hours=int(hours), minutes=int(minutes))
    return magnitude if sign == "+" else -magnitude


def test_table_has_every_documented_id_once_in_order() -> None:
    assert list(HUAWEI_TIME_ZONES) == [str(n) for n in range(1, 74)]
    assert all(key == row.id for key, row in HUAWEI_TIME_ZONES.items())
    assert len(REPRESENTATIVES) == len(ROWS), "two rows share a representative IANA zone"


@pytest.mark.parametrize(
    ("zone_id", "label_start", "iana"),
    [
        pytest.param("1", "(GMT-12:00) Eniwetok", "Etc/GMT+12", id="1-eniwetok"),
        pytest.param("5", "(GMT-08:00) Pacific Time", "America/Los_Angeles", id="5-pacific"),
        pytest.param("13", "(GMT-05:00) Eastern Time", "America/New_York", id="13-eastern"),
        pytest.param("26", "(GMT) Greenwich Mean Time", "Europe/London", id="26-london"),
        pytest.param("27", "(GMT+01:00) Amsterdam, Berlin", "Europe/Berlin", id="27-berlin"),
        pytest.param("56", "(GMT+08:00) Beijing", "Asia/Shanghai", id="56-beijing"),
    ],
)
def test_documented_anchor_round_trips(zone_id: str, label_start: str, iana: str) -> None:
    assert HUAWEI_TIME_ZONES[zone_id].label.startswith(label_start)
    assert vendor_zone_info(zone_id).key == iana
    assert vendor_zone_id(iana) == zone_id
    assert vendor_zone_id(ZoneInfo(iana)) == zone_id


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_representative_zone_exists_in_zoneinfo(row: VendorZone) -> None:
    assert row.iana in zoneinfo.available_timezones()


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_every_row_maps_back_to_itself(row: VendorZone) -> None:
    assert vendor_zone_id(vendor_zone_info(row.id)) == row.id
    assert vendor_zone_id(row.iana) == row.id


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_label_offset_is_representative_standard_offset_in_2020(row: VendorZone) -> None:
    # 2020 predates Greenland's (2023) and Kazakhstan's (2024) moves, which the labels miss;
    # a mismatch here means a representative was picked for the wrong region.
    assert standard_offset(row.iana, 2020) == label_offset(row.label)


SLACK_ZONES = [
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "UTC",
    "Etc/UTC",
    "Europe/Paris",
    "America/Toronto",
    "Asia/Manila",
    "Asia/Kathmandu",
    "Asia/Tehran",
    "Europe/Sofia",
    "Europe/Istanbul",
    "Africa/Casablanca",
    "Atlantic/Reykjavik",
    "Asia/Urumqi",
    "America/Asuncion",
    "Australia/Lord_Howe",
    "Australia/Eucla",
    "Pacific/Chatham",
    "Pacific/Marquesas",
    "Pacific/Kiritimati",
    "Pacific/Norfolk",
]


@pytest.mark.parametrize("name", SLACK_ZONES)
def test_slack_zone_maps_to_a_row_with_the_same_offsets_all_year(name: str) -> None:
    got = offsets_over_year(vendor_zone_info(vendor_zone_id(name, year=REFERENCE_YEAR)))
    wanted = offsets_over_year(name)
    if any(offsets_over_year(row.iana) == wanted for row in ROWS):
        assert got == wanted
        return
    # No row keeps this zone's time all year. The documented fallback: a row that agrees on
    # 15 January and 15 July if there is one, else the nearest standard offset (the smaller one).
    jan_jul = wanted[0], wanted[6]
    rows_jan_jul = [(o[0], o[6]) for o in map(offsets_over_year, REPRESENTATIVES)]
    if jan_jul in rows_jan_jul:
        assert (got[0], got[6]) == jan_jul
    else:
        standard = min(o for o in jan_jul if o is not None)
        nearest = min(abs(min(o for o in row if o is not None) - standard) for row in rows_jan_jul)
        assert abs(min(o for o in (got[0], got[6]) if o is not None) - standard) == nearest


@pytest.mark.parametrize(("name", "zone_id"), sorted(IANA_ALIASES.items()))
def test_alias_is_an_existing_zone_with_its_rows_rules(name: str, zone_id: str) -> None:
    assert name in zoneinfo.available_timezones()
    assert name not in REPRESENTATIVES, "an alias shadowed by an exact match is dead data"
    assert offsets_over_year(name) == offsets_over_year(vendor_zone_info(zone_id))
    assert vendor_zone_id(name) == zone_id


def test_utc_gets_the_gmt_row_without_summer_time() -> None:
    zone_id = vendor_zone_id("UTC")
    assert HUAWEI_TIME_ZONES[zone_id].label.startswith("(GMT)")
    assert set(offsets_over_year(vendor_zone_info(zone_id))) == {timedelta(0)}


def test_zone_without_a_name_uses_the_offset_fallback() -> None:
    candidates = (Path(root) / "America" / "Toronto" for root in zoneinfo.TZPATH)
    path = next((candidate for candidate in candidates if candidate.is_file()), None)
    if path is None:
        pytest.skip("no system tz database file for America/Toronto")
    with path.open("rb") as handle:
        keyless = ZoneInfo.from_file(handle)
    zone_id = vendor_zone_id(keyless)
    assert offsets_over_year(vendor_zone_info(zone_id)) == offsets_over_year("America/Toronto")


def test_reference_year_decides_which_rules_apply() -> None:
    # Volgograd kept GMT+4 from October 2018 to December 2020 and GMT+3 before and after.
    then = vendor_zone_id("Europe/Volgograd", year=2019)
    now = vendor_zone_id("Europe/Volgograd", year=2026)
    assert then != now
    assert offsets_over_year(vendor_zone_info(then), 2019) == offsets_over_year(
        "Europe/Volgograd", 2019
    )
    assert offsets_over_year(vendor_zone_info(now), 2026) == offsets_over_year(
        "Europe/Volgograd", 2026
    )


def test_vendor_zone_reads_local_cycle_dates_with_summer_time() -> None:
    pacific = vendor_zone_info("5")
    winter = datetime(2026, 1, 5, 10, 0, tzinfo=pacific).astimezone(UTC)
    summer = datetime(2026, 7, 6, 10, 0, tzinfo=pacific).astimezone(UTC)
    assert (winter.hour, summer.hour) == (18, 17)


@pytest.mark.parametrize("zone_id", ["0", "74", "77", "", " 56", "56.0", "Asia/Shanghai"])
def test_unknown_vendor_id_raises_value_error(zone_id: str) -> None:
    with pytest.raises(ValueError, match="unknown Huawei timeZoneID"):
        vendor_zone_info(zone_id)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "America", "utc"])
def test_unknown_iana_name_raises_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="unknown IANA time zone"):
        vendor_zone_id(name)
