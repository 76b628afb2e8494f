"""Huawei Cloud Meeting's numeric ``timeZoneID`` values and their mapping to IANA time zones.

Pure data and pure functions: no clock and no I/O beyond ``zoneinfo`` reading the tz database
(reference §2 "timeZoneID", §4.2).

Where the table comes from (values 1-73, the vendor text kept verbatim, typos included):

- ids 1-37, and the start of 38 ("(GMT+03:00) Baghdad, Mi..."): the "time zone table" (时区表,
  表1 时区映射关系) appendix of the REST API reference,
  https://support.huaweicloud.com/api-meeting/meeting_21_0110.html (English edition:
  https://support.huaweicloud.com/intl/en-us/api-meeting/meeting_21_0110.html). The installed
  SDK (huaweicloudsdkmeeting 3.1.219) links to this page but no longer embeds the table.
- ids 38-73: the ``timeZoneId`` docstring of ``CorpBasicDTO`` in older official SDKs
  (github.com/huaweicloud/huaweicloud-sdk-python-v3,
  ``huaweicloud-sdk-meeting/huaweicloudsdkmeeting/v1/model/corp_basic_dto.py`` at 284d502f;
  the same text in huaweicloud/huaweicloud-sdk-java-v3 ``CorpBasicDTO.java`` at 0a31aaf6).
  Ids 1-37 there agree with the page except 32, where the SDK has "Athens, Vilnius" and the page
  has "Athens, Istanbul, Vilnius"; the page wins. The page's 38 prefix and its 64-68
  ("Darwin", "Brisbane", "Canberra, Melbourne, Sydney", "Guam, Port Moresby", "Hobart") and the
  client SDK enum's 51-55 (HWM_TIMEZONE_ASTANA ... NOVOSIBIRSK) agree with the SDK text. The
  other ids in 38-73 were not seen on the page itself, so their wording there may differ.
- The same SDK docstring also lists 74-77 (Irkutsk, Casablanca, Baku, Kamchatka). They are left
  out: the vendor documents only 1-73 as usable ("参数值1-73可用", iOS SDK ``timeZone``).

``iana`` is our choice, not the vendor's: one IANA zone whose current rules are those of the
places in the label. Where the label's offset is out of date (21 Greenland, 50 Almaty) the zone's
rules win, because that zone is what the bot uses to turn local cycle dates into instants.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "HUAWEI_TIME_ZONES",
    "IANA_ALIASES",
    "REFERENCE_YEAR",
    "VendorZone",
    "vendor_zone_id",
    "vendor_zone_info",
]

REFERENCE_YEAR: Final = 2026
"""Default year whose January and July offsets the offset fallback compares; pass the meeting's
year to follow rule changes."""


@dataclass(frozen=True, slots=True)
class VendorZone:
    """One row of the vendor's time zone table."""

    id: str
    """The ``timeZoneID`` string sent on the wire, e.g. ``"56"``."""
    label: str
    """The vendor's own text for the row."""
    iana: str
    """A representative IANA zone whose rules match the places in ``label``."""


_ZONES: Final = (
    VendorZone("1", "(GMT-12:00) Eniwetok, Kwajalein", "Etc/GMT+12"),
    VendorZone("2", "(GMT-11:00) Midway Island, Samoa", "Pacific/Pago_Pago"),
    VendorZone("3", "(GMT-10:00) Hawaii", "Pacific/Honolulu"),
    VendorZone("4", "(GMT-09:00) Alaska", "America/Anchorage"),
    VendorZone("5", "(GMT-08:00) Pacific Time(US&Canada);Tijuana", "America/Los_Angeles"),
    VendorZone("6", "(GMT-07:00) Arizona", "America/Phoenix"),
    VendorZone("7", "(GMT-07:00) Mountain Time(US&Canada)", "America/Denver"),
    VendorZone("8", "(GMT-06:00) Central America", "America/Guatemala"),
    VendorZone("9", "(GMT-06:00) Central Time(US&Canada)", "America/Chicago"),
    VendorZone("10", "(GMT-06:00) Mexico City", "America/Mexico_City"),
    VendorZone("11", "(GMT-06:00) Saskatchewan", "America/Regina"),
    VendorZone("12", "(GMT-05:00) Bogota, Lima, Quito", "America/Bogota"),
    VendorZone("13", "(GMT-05:00) Eastern Time(US&Canada)", "America/New_York"),
    VendorZone("14", "(GMT-05:00) Indiana(East)", "America/Indiana/Indianapolis"),
    VendorZone("15", "(GMT-04:00) Atlantic time(Canada)", "America/Halifax"),
    VendorZone("16", "(GMT-04:00) Caracas, La Paz", "America/Caracas"),
    VendorZone("17", "(GMT-04:00) Santiago", "America/Santiago"),
    VendorZone("18", "(GMT-03:30) Newfoundland", "America/St_Johns"),
    VendorZone("19", "(GMT-03:00) Brasilia", "America/Sao_Paulo"),
    VendorZone("20", "(GMT-03:00) Buenos Aires, Georgetown", "America/Argentina/Buenos_Aires"),
    VendorZone("21", "(GMT-03:00) Greenland", "America/Nuuk"),
    # No place keeps "Mid-Atlantic" time; a fixed offset is the honest representative.
    VendorZone("22", "(GMT-02:00) Mid-Atlantic", "Etc/GMT+2"),
    VendorZone("23", "(GMT-01:00) Azores", "Atlantic/Azores"),
    VendorZone("24", "(GMT-01:00) Cape Verde Is.", "Atlantic/Cape_Verde"),
    # Monrovia keeps GMT all year, as the label says; Casablanca is now mostly GMT+1.
    VendorZone("25", "(GMT) Casablanca, Monrovia", "Africa/Monrovia"),
    VendorZone(
        "26", "(GMT) Greenwich Mean Time:Dublin, Edinburgh, Lisbon, London", "Europe/London"
    ),
    VendorZone(
        "27", "(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Berlin"
    ),
    VendorZone(
        "28", "(GMT+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague", "Europe/Budapest"
    ),
    VendorZone("29", "(GMT+01:00) Brussels, Copenhagen, Madrid, Paris", "Europe/Paris"),
    VendorZone("30", "(GMT+01:00) Sarajevo, Skopje, Sofija, Warsaw, Zagreb", "Europe/Warsaw"),
    VendorZone("31", "(GMT+01:00) West Central Africa", "Africa/Lagos"),
    VendorZone("32", "(GMT+02:00) Athens, Istanbul, Vilnius", "Europe/Athens"),
    VendorZone("33", "(GMT+02:00) Bucharest", "Europe/Bucharest"),
    VendorZone("34", "(GMT+02:00) Cairo", "Africa/Cairo"),
    VendorZone("35", "(GMT+02:00) Harare, Pretoria", "Africa/Johannesburg"),
    VendorZone("36", "(GMT+02:00) Helsinki, Riga, Tallinn", "Europe/Helsinki"),
    VendorZone("37", "(GMT+02:00) Jerusalem", "Asia/Jerusalem"),
    VendorZone("38", "(GMT+03:00) Baghdad, Minsk", "Asia/Baghdad"),
    VendorZone("39", "(GMT+03:00) Kuwait, Riyadh", "Asia/Riyadh"),
    VendorZone("40", "(GMT+03:00) Moscow, St. Petersburg", "Europe/Moscow"),
    VendorZone("41", "(GMT+03:00) Nairobi, Istanbul", "Africa/Nairobi"),
    VendorZone("42", "(GMT+03:30) Tehran", "Asia/Tehran"),
    VendorZone("43", "(GMT+04:00) Abu Dhabi, Muscat, Volgograd", "Asia/Dubai"),
    VendorZone("44", "(GMT+04:00) Baku, Tbilisi, Yerevan", "Asia/Baku"),
    VendorZone("45", "(GMT+04:30) Kabul", "Asia/Kabul"),
    VendorZone("46", "(GMT+05:00) Ekaterinburg", "Asia/Yekaterinburg"),
    VendorZone("47", "(GMT+05:00) Islamabad, Karachi, Tashkent", "Asia/Karachi"),
    VendorZone("48", "(GMT+05:30) Calcutta, Chennai, Mumbai, New Delhi", "Asia/Kolkata"),
    VendorZone("49", "(GMT+05:45) Kathmandu", "Asia/Kathmandu"),
    VendorZone("50", "(GMT+06:00) Almaty", "Asia/Almaty"),
    VendorZone("51", "(GMT+06:00) Astana, Dhaka", "Asia/Dhaka"),
    VendorZone("52", "(GMT+05:30) Sri Jayawardenepura", "Asia/Colombo"),
    VendorZone("53", "(GMT+06:30) Rangoon", "Asia/Yangon"),
    VendorZone("54", "(GMT+07:00) Bangkok, Hanoi, Jakarta", "Asia/Bangkok"),
    VendorZone("55", "(GMT+07:00) Novosibirsk, Krasnoyarsk", "Asia/Novosibirsk"),
    VendorZone("56", "(GMT+08:00) Beijing, Chongqing, Hong Kong, Urumqi, Taipei", "Asia/Shanghai"),
    VendorZone("57", "(GMT+08:00) Ulaan Bataar", "Asia/Ulaanbaatar"),
    VendorZone("58", "(GMT+08:00) Kuala Lumpur, Singapore", "Asia/Singapore"),
    VendorZone("59", "(GMT+08:00) Perth", "Australia/Perth"),
    VendorZone("60", "(GMT+09:00) Osaka, Sapporo, Tokyo", "Asia/Tokyo"),
    VendorZone("61", "(GMT+09:00) Seoul", "Asia/Seoul"),
    VendorZone("62", "(GMT+09:00) Yakutsk", "Asia/Yakutsk"),
    VendorZone("63", "(GMT+09:30) Adelaide", "Australia/Adelaide"),
    VendorZone("64", "(GMT+09:30) Darwin", "Australia/Darwin"),
    VendorZone("65", "(GMT+10:00) Brisbane", "Australia/Brisbane"),
    VendorZone("66", "(GMT+10:00) Canberra, Melbourne, Sydney", "Australia/Sydney"),
    VendorZone("67", "(GMT+10:00) Guam, Port Moresby", "Pacific/Guam"),
    VendorZone("68", "(GMT+10:00) Hobart", "Australia/Hobart"),
    VendorZone("69", "(GMT+10:00) Vladivostok", "Asia/Vladivostok"),
    VendorZone("70", "(GMT+11:00) Magadan, Solomon Is., New Caledonia", "Asia/Magadan"),
    VendorZone("71", "(GMT+12:00) Auckland, Welington", "Pacific/Auckland"),
    VendorZone("72", "(GMT+12:00) Fiji", "Pacific/Fiji"),
    VendorZone("73", "(GMT+13:00) Nuku'alofa", "Pacific/Tongatapu"),
)

HUAWEI_TIME_ZONES: Final[Mapping[str, VendorZone]] = MappingProxyType({z.id: z for z in _ZONES})
"""Every documented ``timeZoneID`` (``"1"`` ... ``"73"``), in table order."""

_BY_IANA: Final[Mapping[str, str]] = MappingProxyType({z.iana: z.id for z in _ZONES})

# Common zones whose own name is not a representative but whose rules equal a row that names
# them (or their city), so the user sees a familiar label. Zones the labels name wrongly are
# left to the offset fallback: Sofia is not GMT+1, Urumqi's IANA zone is GMT+6, Georgetown
# (Guyana) is GMT-4, Istanbul and Volgograd are GMT+3 now.
IANA_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        # UTC keeps no summer time, unlike London (26).
        "UTC": "25",
        "Etc/UTC": "25",
        "GMT": "25",
        "Etc/GMT": "25",
        "Pacific/Midway": "2",
        "America/Tijuana": "5",
        "America/Vancouver": "5",
        "America/Edmonton": "7",
        "America/Winnipeg": "9",
        "America/Lima": "12",
        "America/Guayaquil": "12",
        "America/Toronto": "13",
        "America/Detroit": "13",
        "America/Indianapolis": "14",
        "America/La_Paz": "16",
        "America/Buenos_Aires": "20",
        "America/Godthab": "21",
        "Europe/Dublin": "26",
        "Europe/Lisbon": "26",
        "Europe/Amsterdam": "27",
        "Europe/Rome": "27",
        "Europe/Stockholm": "27",
        "Europe/Vienna": "27",
        "Europe/Zurich": "27",
        "Europe/Belgrade": "28",
        "Europe/Bratislava": "28",
        "Europe/Ljubljana": "28",
        "Europe/Prague": "28",
        "Europe/Brussels": "29",
        "Europe/Copenhagen": "29",
        "Europe/Madrid": "29",
        "Europe/Sarajevo": "30",
        "Europe/Skopje": "30",
        "Europe/Zagreb": "30",
        "Europe/Vilnius": "32",
        "Africa/Harare": "35",
        "Europe/Riga": "36",
        "Europe/Tallinn": "36",
        "Europe/Minsk": "38",
        "Asia/Kuwait": "39",
        "Asia/Muscat": "43",
        "Asia/Tbilisi": "44",
        "Asia/Yerevan": "44",
        "Asia/Tashkent": "47",
        "Asia/Calcutta": "48",
        "Asia/Katmandu": "49",
        "Asia/Rangoon": "53",
        "Asia/Ho_Chi_Minh": "54",
        "Asia/Jakarta": "54",
        "Asia/Krasnoyarsk": "55",
        "Asia/Chongqing": "56",
        "Asia/Hong_Kong": "56",
        "Asia/Macau": "56",
        "Asia/Taipei": "56",
        "Asia/Ulan_Bator": "57",
        "Asia/Kuala_Lumpur": "58",
        "Australia/Canberra": "66",
        "Australia/Melbourne": "66",
        "Pacific/Port_Moresby": "67",
        "Pacific/Guadalcanal": "70",
        "Pacific/Noumea": "70",
    }
)


def vendor_zone_id(zone: ZoneInfo | str, *, year: int = REFERENCE_YEAR) -> str:
    """The ``timeZoneID`` to send for an IANA zone; always one of ``HUAWEI_TIME_ZONES``.

    Tried in order, the first hit wins:

    1. the row whose representative IANA zone is ``zone`` itself;
    2. ``IANA_ALIASES``;
    3. the first row (table order) whose zone has the same UTC offsets as ``zone`` on
       15 January and 15 July of ``year``, so summer time behaves alike;
    4. the first row with the nearest standard offset (the smaller of those two offsets):
       an equal one if the table has it, else the closest (Pacific/Chatham, GMT+12:45, gets
       the closest row rather than an error).

    Raises ``ValueError`` for a name that is not an IANA zone.
    """
    info = _load(zone)
    if info.key is not None:
        found = _BY_IANA.get(info.key) or IANA_ALIASES.get(info.key)
        if found is not None:
            return found
    wanted = _jan_jul_offsets(info, year)
    rows = _rows_with_offsets(year)
    for zone_id, offsets in rows:
        if offsets == wanted:
            return zone_id
    standard = min(wanted)
    # min() keeps the first of equally near rows, so an equal standard offset wins in table order.
    return min(rows, key=lambda row: abs(min(row[1]) - standard))[0]


def vendor_zone_info(zone_id: str) -> ZoneInfo:
    """The IANA zone in which local dates of the vendor zone ``zone_id`` are read."""
    try:
        return ZoneInfo(HUAWEI_TIME_ZONES[zone_id].iana)
    except KeyError:
        raise ValueError(
            f"unknown Huawei timeZoneID {zone_id!r}: expected a string from '1' to "
            f"'{len(HUAWEI_TIME_ZONES)}'"
        ) from None


def _load(zone: ZoneInfo | str) -> ZoneInfo:
    if isinstance(zone, ZoneInfo):
        return zone
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown IANA time zone {zone!r}") from exc


def _jan_jul_offsets(zone: ZoneInfo, year: int) -> tuple[timedelta, timedelta]:
    jan, jul = (datetime(year, month, 15, 12, tzinfo=UTC).astimezone(zone) for month in (1, 7))
    # utcoffset() is typed Optional but is never None for an aware ZoneInfo datetime.
    return (jan.utcoffset() or timedelta(0), jul.utcoffset() or timedelta(0))


@cache
def _rows_with_offsets(year: int) -> tuple[tuple[str, tuple[timedelta, timedelta]], ...]:
    return tuple((z.id, _jan_jul_offsets(ZoneInfo(z.iana), year)) for z in _ZONES)
